"""wattprint import: bring runs recorded by CodeCarbon or Carbontracker into the store."""

from __future__ import annotations

import argparse

from wattprint.core.units import J_PER_KWH

NAME = "import"
HELP = "import runs recorded by CodeCarbon (emissions.csv) or Carbontracker (its log directory)"
EXAMPLES = """examples:
  wattprint import codecarbon emissions.csv
  wattprint import carbontracker ./logs --project mnist
  wattprint import codecarbon emissions.csv --json

The file is checked whole first: a malformed file stores nothing. Importing the same file again updates its runs
(their ids derive from the tool's own run ids) instead of adding copies. Imported components are marked
'imported'; 'wattprint report RUN' shows where each figure came from."""


LISTED = 20
"""Runs listed one per line after an import; the rest are counted."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("tool", choices=("codecarbon", "carbontracker"), help="the tool that wrote the file")
    parser.add_argument("path", help="CodeCarbon's emissions.csv, or Carbontracker's log directory (or one log)")
    parser.add_argument("--project", help="file the runs under this project (default: as the file says)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from wattprint.cli.common import open_store, print_json
    from wattprint.importers import read_runs
    from wattprint.importers.common import save_all

    runs = read_runs(args.tool, args.path, project=args.project)  # all checked before the store is even opened
    store = open_store(args)
    try:
        result = save_all(store, args.tool, args.path, runs)
    finally:
        store.close()
    if args.json:
        print_json(result.to_dict())
    else:
        updated = len(result.already_stored)
        print(f"{args.tool}: {len(result.runs) - updated} run(s) imported, {updated} already in the store updated, "
              f"from {args.path}")
        for index, item in enumerate(result.runs):
            if index == LISTED:  # a file of 100,000 runs is not read line by line
                print(f"  ... and {len(result.runs) - LISTED:,} more ('wattprint runs' lists them; --json gives all)")
                break
            run = item.run
            emissions = "-" if run.emissions_g is None else f"{run.emissions_g:.4g} g CO2e"
            print(f"  {run.run_id[:12]}  {run.project or '-':<14} {run.name or '-':<32} "
                  f"{run.energy_j / J_PER_KWH:.4g} kWh  {emissions}")
    return 0
