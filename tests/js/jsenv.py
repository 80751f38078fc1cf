"""Running the JavaScript client's npm scripts and node from pytest: where they are, and when to skip."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

JS_ROOT = Path(__file__).resolve().parents[2] / "clients" / "js"


def require_node() -> str:
    """The ``node`` executable; skip when node or the client's npm packages are missing, unless ``CI`` is set
    (then it fails: the README's test command installs them with ``npm ci --prefix clients/js``)."""
    node = shutil.which("node")
    missing = "node is not installed" if node is None else (
        "clients/js/node_modules is missing (npm ci --prefix clients/js)"
        if not (JS_ROOT / "node_modules").is_dir() else None)
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{missing}; CI is set, so the JavaScript client's tests must run")
        pytest.skip(missing)
    assert node is not None
    return node


def run_js(args: list[str], *, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    """Run a command in clients/js; fail the test with its whole output when it fails."""
    done = subprocess.run(args, cwd=JS_ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    output = done.stdout + done.stderr
    if done.returncode != 0:
        pytest.fail(f"{' '.join(args)} exited with {done.returncode}:\n{output[-20000:]}", pytrace=False)
    return output


_built = False


def build() -> None:
    """``npm run build`` once per session (tsc: ESM, CommonJS, declarations; esbuild: the browser bundle)."""
    global _built
    if not _built:
        run_js(["npm", "run", "--silent", "build"])
        _built = True
