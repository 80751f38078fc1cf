"""Reading the embedded tables (stdlib only; each file is read once, on first use)."""

from __future__ import annotations

import csv
import io
import os
from functools import cache
from typing import Any

__all__ = ["opt_float", "opt_int", "opt_str", "read_json", "read_table", "read_text"]

_PACKAGE = __name__.rpartition(".")[0]
_HERE = os.path.dirname(os.path.abspath(__file__))


@cache
def read_text(name: str) -> str:
    """The text of a file shipped in ``wattprint/data/`` (a plain file, or a resource in a zip)."""
    path = os.path.join(_HERE, name)
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return handle.read()
    except FileNotFoundError:
        pass
    from importlib import resources  # only when the package is not a plain folder (zipimport)

    try:
        return resources.files(_PACKAGE).joinpath(name).read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError):
        raise FileNotFoundError(
            f"wattprint data file {name!r} is missing from the installed package ({path}); reinstall "
            "wattprint or, in a source checkout, run scripts/build_data.py"
        ) from None


@cache
def read_table(name: str) -> tuple[dict[str, str], ...]:
    """The rows of a shipped CSV table, as dicts keyed by column name."""
    return tuple(csv.DictReader(io.StringIO(read_text(name))))


@cache
def read_json(name: str) -> Any:
    """A shipped JSON file, parsed."""
    import json

    return json.loads(read_text(name))


def opt_str(text: str | None) -> str | None:
    """None for an empty cell."""
    return text or None


def opt_float(text: str | None) -> float | None:
    """A number, or None for an empty cell."""
    return float(text) if text else None


def opt_int(text: str | None) -> int | None:
    """An integer, or None for an empty cell."""
    return int(float(text)) if text else None
