"""wattprint doctor: which sensors work here, why others do not, and how to fix them."""

from __future__ import annotations

import argparse

NAME = "doctor"
HELP = "check which sensors work here, why others do not, and how to fix them"
EXAMPLES = """examples:
  wattprint doctor                 # every check, with a fix for each problem
  wattprint doctor --json          # the checks as a JSON list"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from wattprint.cli.common import print_json
    from wattprint.report.console import checks_text
    from wattprint.report.diagnostics import ERROR, diagnose

    checks = diagnose(store=args.store)  # reads the configuration itself: its problems are findings, not a stop
    if args.json:
        print_json([c.to_dict() for c in checks])
    elif checks:
        print(checks_text(checks))
    return 1 if any(c.status == ERROR for c in checks) else 0
