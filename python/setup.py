"""Builds the extension backends._backends with CMake (the C++ library and
the binding, in Release) and puts it in the package. Everything it needs is
a Debian package (scripts/install-deps.sh python); nothing is downloaded."""

import os
import pathlib
import re
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

SOURCE = pathlib.Path(__file__).resolve().parent.parent


def project_version():
    """The version in project(backends VERSION ...) of the top CMakeLists.txt:
    the one source of every version the project reports."""
    text = (SOURCE / "CMakeLists.txt").read_text()
    match = re.search(r"^project\(backends VERSION ([0-9.]+)", text, re.M)
    if not match:
        sys.exit("setup.py: no project(backends VERSION ...) in CMakeLists.txt")
    return match.group(1)


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build = pathlib.Path(self.build_temp).resolve() / "cmake"
        target = pathlib.Path(self.get_ext_fullpath(ext.name)).resolve()
        jobs = os.environ.get("BACKENDS_BUILD_JOBS", str(os.cpu_count() or 2))
        subprocess.run(
            ["cmake", "-S", str(SOURCE), "-B", str(build), "-G", "Ninja",
             "-DCMAKE_BUILD_TYPE=Release", "-DBACKENDS_BUILD_PYTHON=ON",
             "-DBACKENDS_BUILD_TESTS=OFF", "-DBACKENDS_BUILD_TOOLS=OFF",
             "-DBACKENDS_INSTALL=OFF",
             f"-DPython_EXECUTABLE={sys.executable}"],
            check=True)
        subprocess.run(["cmake", "--build", str(build), "-j", jobs,
                        "--target", "backends_python"], check=True)
        built = next((build / "python" / "backends").glob("_backends*.so"))
        target.parent.mkdir(parents=True, exist_ok=True)
        self.copy_file(str(built), str(target))


setup(
    version=project_version(),
    ext_modules=[Extension("backends._backends", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
)
