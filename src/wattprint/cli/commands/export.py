"""wattprint export: runs, or their intervals, as CSV or JSON."""

from __future__ import annotations

import argparse

NAME = "export"
HELP = "export runs (or their intervals) as CSV or JSON"
EXAMPLES = """examples:
  wattprint export -o runs.csv                                  # every run, one row each
  wattprint export --project mnist --format json -o mnist.json  # one project's runs as JSON
  wattprint export --intervals --format csv -o intervals.csv    # the per-interval records"""

_EXTENSIONS = {".csv": "csv", ".json": "json"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", help="only this project's runs")
    parser.add_argument("--format", choices=("csv", "json"), default=None,
                        help="csv or json (default: from the -o file's extension, else csv)")
    parser.add_argument("--intervals", action="store_true", help="export the per-interval records")
    parser.add_argument("-o", "--output", help="file to write (default: standard output)")


def _format(args: argparse.Namespace) -> str:
    """--format, else the -o file's extension (.csv or .json; none: CSV); another extension is an error."""
    import os

    from wattprint.core.errors import ConfigError

    if args.format:
        return str(args.format)
    suffix = os.path.splitext(args.output or "")[1].lower()
    if not suffix:
        return "csv"
    if suffix not in _EXTENSIONS:
        raise ConfigError(f"cannot export to {args.output!r}: wattprint writes .csv and .json files; name the file "
                          "with one of those extensions, or give --format csv|json to choose the format whatever "
                          "the name")
    return _EXTENSIONS[suffix]


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from wattprint.cli.common import open_store, write_output
    from wattprint.report.console import export_what
    from wattprint.report.export import export_runs

    fmt = _format(args)
    store = open_store(args)
    try:
        text = export_runs(store, project=args.project, fmt=fmt, intervals=args.intervals)
    finally:
        store.close()
    write_output(text, args.output, what=export_what(fmt, _count(text, fmt), intervals=args.intervals))
    return 0


def _count(text: str, fmt: str) -> int:
    """How many runs an export holds (JSON: the list's length; CSV: distinct run ids of its rows)."""
    import csv
    import io
    import json

    if fmt == "json":
        data = json.loads(text)
        return len(data) if isinstance(data, list) else 1
    return len({row.get("run_id") for row in csv.DictReader(io.StringIO(text))})
