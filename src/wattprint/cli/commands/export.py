"""wattprint export: runs, or their intervals, as CSV or JSON."""

from __future__ import annotations

import argparse

NAME = "export"
HELP = "export runs (or their intervals) as CSV or JSON"
EXAMPLES = """examples:
  wattprint export -o runs.csv
  wattprint export --project mnist --format json -o mnist.json
  wattprint export --intervals --format csv -o intervals.csv"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", help="only this project's runs")
    parser.add_argument("--format", choices=("csv", "json"), default=None,
                        help="csv or json (default: from the -o file's extension, else csv)")
    parser.add_argument("--intervals", action="store_true", help="export the per-interval records")
    parser.add_argument("-o", "--output", help="file to write (default: standard output)")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from wattprint.cli.common import open_store, write_output
    from wattprint.report.export import export_runs

    fmt = args.format or ("json" if (args.output or "").endswith(".json") else "csv")
    store = open_store(args)
    try:
        text = export_runs(store, project=args.project, fmt=fmt, intervals=args.intervals)
    finally:
        store.close()
    write_output(text, args.output)
    return 0
