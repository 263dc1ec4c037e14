"""One version: backends.__version__, the package's metadata and the
`backends` tool all report the CMake project version (CMakeLists.txt)."""

import os
import pathlib
import re
import subprocess
import sys

import pytest

import backends

SOURCE = pathlib.Path(__file__).resolve().parents[2]


def cmake_project_version():
    text = (SOURCE / "CMakeLists.txt").read_text()
    match = re.search(r"^project\(backends VERSION ([0-9.]+)", text, re.M)
    assert match, "no project(backends VERSION ...) in CMakeLists.txt"
    return match.group(1)


def test_module_reports_the_cmake_project_version():
    assert isinstance(backends.__version__, str)
    assert backends.__version__ == cmake_project_version()


def test_package_metadata_takes_the_cmake_project_version():
    # What pip records: pyproject.toml declares the version dynamic and
    # setup.py reads it from CMakeLists.txt.
    result = subprocess.run(
        [sys.executable, "setup.py", "--version"], cwd=SOURCE / "python",
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == cmake_project_version()


def test_tool_reports_the_same_version():
    tool = os.environ.get("BACKENDS_TOOL")
    if not tool:
        pytest.skip("BACKENDS_TOOL not set (ctest sets it when the tool is "
                    "part of the build)")
    if not os.path.exists(tool):
        pytest.skip(f"the tool {tool} is not built")
    result = subprocess.run([tool, "--version"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"backends {backends.__version__}"
