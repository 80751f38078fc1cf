"""wattprint runs: list recent runs, newest first."""

from __future__ import annotations

import argparse

NAME = "runs"
HELP = "list recent runs, newest first"
EXAMPLES = """examples:
  wattprint runs
  wattprint runs --project mnist --limit 50
  wattprint runs --json | jq '.[].energy_kwh'"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", help="only this project's runs")
    parser.add_argument("--limit", type=int, default=20, help="how many runs (default 20; 0 for all)")
    parser.add_argument("--json", action="store_true", help="print a JSON list")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from wattprint.cli.common import open_store, print_json
    from wattprint.report.summary import run_json, runs_table

    store = open_store(args)
    try:
        runs = store.runs(project=args.project, limit=args.limit or None)
        if args.json:
            print_json([run_json(run, store.components(run.run_id)) for run in runs])
        else:
            print(runs_table(runs))
    finally:
        store.close()
    return 0
