"""``wattprint``: parse, call the library, print. No logic of its own; one module per command."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any

from wattprint._version import __version__
from wattprint.cli.commands import COMMANDS


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, tuple[Any, argparse.ArgumentParser]]]:
    parser = argparse.ArgumentParser(
        prog="wattprint",
        description="Measure, record, report and reduce the energy and carbon footprint of commands and code.",
        epilog="Run 'wattprint COMMAND --help' for the options and examples of each command.",
    )
    parser.add_argument("--version", action="version", version=f"wattprint {__version__}")
    parser.add_argument("--store", help="store URL or SQLite path for this command ('off' to not store); "
                                        "default: WATTPRINT_STORE, the config files, or the per-user SQLite file")
    subparsers = parser.add_subparsers(dest="command_name", metavar="COMMAND")
    subparsers.required = True
    modules: dict[str, tuple[Any, argparse.ArgumentParser]] = {}
    for module_name in COMMANDS:
        module = importlib.import_module(f"wattprint.cli.commands.{module_name}")
        sub = subparsers.add_parser(
            module.NAME, help=module.HELP, description=module.HELP, epilog=module.EXAMPLES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(sub)
        modules[module.NAME] = (module, sub)
    return parser, modules


def main(argv: Sequence[str] | None = None) -> int:
    parser, modules = build_parser()
    args = parser.parse_args(argv)
    from wattprint.errors import WattprintError

    module, sub = modules[args.command_name]
    try:
        return int(module.run(args, sub))
    except (WattprintError, LookupError) as error:
        message = error.args[0] if isinstance(error, LookupError) and error.args else str(error)
        print(f"wattprint: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
