"""``wattprint``: parse, call the library, print. No logic of its own; one module per command."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

from wattprint._version import __version__
from wattprint.cli.commands import COMMANDS

EXAMPLES = """examples:
  wattprint run -- python train.py --epochs 3       # measure a command, store the run, print its footprint
  wattprint show last                               # the last run: components, methods, uncertainties
  wattprint runs --project mnist                    # one project's runs, newest first
  wattprint report last -o report.html              # a report (.md, .html, .tex)
  wattprint monitor --duration 60                   # measure the whole machine for a minute
  wattprint doctor                                  # which sensors work here, and how to fix the others
  wattprint config                                  # the effective settings and where each came from
  wattprint runs --store runs.sqlite                # global options go before or after the command

Run 'wattprint COMMAND --help' for the options and examples of each command.

Options not given leave their setting to WATTPRINT_* variables, wattprint.toml and the user config
('wattprint config' shows each value and where it came from).

exit status:
  0    success; for 'wattprint run', the command's own exit status (128+N when signal N ended it,
       127 when it cannot be found, 126 when it cannot be executed)
  1    failure: the command line parsed, but the command cannot do what it asks: a value it cannot use
       (an unknown run, GPU, location or provider; a number out of range; a duration it cannot read; a file
       extension it does not write), options missing or not going together (estimate without --hours),
       a configuration problem, the store or a provider unreachable, doctor or config finding an error;
       'wattprint: error: ...' says what to change
  2    usage error: the command line does not parse: an unknown option, a missing argument (the command
       after --, --deadline with --when-green), a number option given no number, a value not among the
       option's choices; the message, after the usage, names the option
  130  interrupted with Ctrl-C (monitor ends its run normally instead: 0); 141 when standard output closes"""


def _global_options(parser: argparse._ActionsContainer, *, default: Any) -> None:
    """Options every command accepts, before or after its name (``default``: SUPPRESS on the commands, so that a
    value given before the command is not overwritten)."""
    parser.add_argument("--store", default=default,
                        help="store URL or SQLite path for this command ('off' to not store); "
                             "default: WATTPRINT_STORE, the config files, or the per-user SQLite file")


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, tuple[Any, argparse.ArgumentParser]]]:
    parser = argparse.ArgumentParser(
        prog="wattprint",
        description="Measure, record, report and reduce the energy and carbon footprint of commands and code.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"wattprint {__version__}")
    _global_options(parser, default=None)
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common.add_argument_group("global options"), default=argparse.SUPPRESS)
    subparsers = parser.add_subparsers(dest="command_name", metavar="COMMAND")
    subparsers.required = True
    modules: dict[str, tuple[Any, argparse.ArgumentParser]] = {}
    for module_name in COMMANDS:
        module = importlib.import_module(f"wattprint.cli.commands.{module_name}")
        sub = subparsers.add_parser(
            module.NAME, help=module.HELP, description=module.HELP, epilog=module.EXAMPLES,
            formatter_class=argparse.RawDescriptionHelpFormatter, parents=[common],
        )
        module.add_arguments(sub)
        modules[module.NAME] = (module, sub)
    return parser, modules


def option_names(module: Any, parser: argparse.ArgumentParser) -> dict[str, str]:
    """Setting or parameter name -> the option of this command that sets it (for hints in messages)."""
    names: dict[str, str] = {}
    for action in parser._actions:  # noqa: SLF001 - argparse has no public list of a parser's options
        longs = [s for s in action.option_strings if s.startswith("--")]
        if longs and action.dest not in ("help", argparse.SUPPRESS) and action.help is not argparse.SUPPRESS:
            names[action.dest] = longs[0]
    names.update(getattr(module, "SETTING_OPTIONS", {}))
    return names


def _unrecognized(parser: argparse.ArgumentParser, extras: list[str]) -> str:
    """argparse's message for unknown arguments, with the option the user probably meant."""
    import difflib

    known = [s for action in parser._actions for s in action.option_strings if s.startswith("--")]  # noqa: SLF001
    message = f"unrecognized arguments: {' '.join(extras)}"
    for extra in extras:
        if extra.startswith("--"):
            close = difflib.get_close_matches(extra.split("=", 1)[0], known, n=1, cutoff=0.6)
            if close:
                message += f" (did you mean {close[0]}?)"
                break
    return message


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; a closed standard output (``wattprint show last | head``) and Ctrl-C end it quietly."""
    try:
        code = _main(argv)
        sys.stdout.flush()
    except KeyboardInterrupt:
        print(file=sys.stderr)  # past the ^C the terminal echoed
        return 128 + 2  # as a process ended by SIGINT
    except BrokenPipeError:
        # The reader went away: no traceback, and no second error when Python flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 128 + 13  # as a process ended by SIGPIPE
    return code


def _main(argv: Sequence[str] | None) -> int:
    parser, modules = build_parser()
    args, extras = parser.parse_known_args(argv)
    module, sub = modules[args.command_name]
    if extras:
        sub.error(_unrecognized(sub, extras))
    from wattprint.cli.common import error
    from wattprint.core.errors import WattprintError
    from wattprint.settings import hints

    try:
        with hints.command_line(option_names(module, sub)):
            return int(module.run(args, sub))
    except (WattprintError, LookupError) as failure:
        error(failure.args[0] if isinstance(failure, LookupError) and failure.args else str(failure))
        return 1
    except BrokenPipeError:
        raise
    except OSError as failure:  # a file that cannot be read or written: its name and why, not a traceback
        where = f"{failure.filename}: " if failure.filename else ""
        error(f"{where}{failure.strerror or failure}")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
