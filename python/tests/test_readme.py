"""The README's Python example runs as written (its /tmp folders moved
into the test's own)."""

import pathlib
import re
import subprocess
import sys

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def test_readme_example_runs(tmp_path):
    text = README.read_text()
    section = text[text.index("## From Python"):]
    section = section[:section.index("\n## ", 1)]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert blocks, "README's From Python section has no example"
    code = blocks[0].replace('"/tmp/', f'"{tmp_path}/')
    result = subprocess.run([sys.executable, "-c", code],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "{'langs': ['en', 'fr'], 'name': 'Ada'}" in result.stdout
    assert "invalid key" in result.stdout
