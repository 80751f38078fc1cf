"""wattprint import: bring runs recorded by CodeCarbon or Carbontracker into the store."""

from __future__ import annotations

import argparse

NAME = "import"
HELP = "import runs recorded by CodeCarbon (emissions.csv) or Carbontracker (its log directory)"
EXAMPLES = """examples:
  wattprint import codecarbon emissions.csv
  wattprint import carbontracker ./logs --project mnist
  wattprint import codecarbon emissions.csv --json

The file is checked whole first: a malformed file stores nothing. Importing the same file again updates its runs
(their ids derive from the tool's own run ids) instead of adding copies. Imported components are marked
'imported'; 'wattprint report RUN' shows where each figure came from."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("tool", choices=("codecarbon", "carbontracker"), help="the tool that wrote the file")
    parser.add_argument("path", help="CodeCarbon's emissions.csv, or Carbontracker's log directory (or one log)")
    parser.add_argument("--project", help="file the runs under this project (default: as the file says)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from wattprint.cli.common import open_store, print_json
    from wattprint.importers import read_runs
    from wattprint.importers.common import save_all
    from wattprint.report.console import import_text

    runs = read_runs(args.tool, args.path, project=args.project)  # all checked before the store is even opened
    store = open_store(args)
    try:
        result = save_all(store, args.tool, args.path, runs)
    finally:
        store.close()
    if args.json:
        print_json(result.to_dict())
    else:
        print(import_text(result, args.tool, args.path))
    return 0
