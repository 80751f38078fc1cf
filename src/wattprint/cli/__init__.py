"""The ``wattprint`` command line (thin: it parses, calls the library, prints)."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    from wattprint.cli.main import main as run

    return run(argv)
