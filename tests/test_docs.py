"""The README's examples and the quickstart run, as a user would run them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


@pytest.mark.parametrize("index", range(len(python_blocks(README))))
def test_readme_python_examples_run(index: int, tmp_path: Path) -> None:
    code = python_blocks(README)[index]
    completed = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr


def test_quickstart_runs_and_reports_a_method_for_every_component() -> None:
    completed = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")], capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr
    assert "epoch 2:" in completed.stdout
    for line in completed.stdout.splitlines():
        if line.startswith(("  cpu", "  ram", "  gpu")):
            assert any(method in line for method in ("counter", "sampled", "model")), line


def test_readme_starts_with_the_two_fresh_machine_commands() -> None:
    blocks = re.findall(r"```(\w*)\n(.*?)```", README, flags=re.DOTALL)
    assert blocks[0][1].strip().endswith("examples/quickstart.py")
    test_command = ("sh scripts/install-test-tools.sh && python3 -m venv .venv && .venv/bin/pip install -e '.[test]' "
                    "&& .venv/bin/python -m pytest")
    assert blocks[1][1].strip() == test_command
    ci = (ROOT / ".ci" / "run").read_text()
    assert "test-command" in ci
