"""``wattprint``: parse, call the library, print. No logic of its own."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from wattprint._version import __version__

EXAMPLES = {
    "run": """examples:
  wattprint run -- python train.py --epochs 3
  wattprint run --project mnist --name baseline -- python train.py
  wattprint run --attribution machine --json -- ./benchmark.sh > run.json
  wattprint run --location gcp:europe-west1 -- python train.py""",
    "runs": """examples:
  wattprint runs
  wattprint runs --project mnist --limit 50
  wattprint runs --json | jq '.[].energy_kwh'""",
    "show": """examples:
  wattprint show last
  wattprint show 01a2b3c4
  wattprint show last --json""",
    "export": """examples:
  wattprint export -o runs.csv
  wattprint export --project mnist --format json -o mnist.json
  wattprint export --intervals --format csv -o intervals.csv""",
    "regions": """examples:
  wattprint regions                     every country, zone and cloud region
  wattprint regions europe-west         search keys and names
  wattprint regions --kind cloud-region --json""",
    "doctor": """examples:
  wattprint doctor
  wattprint doctor --json""",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wattprint",
        description="Measure and record the energy of commands and code.",
        epilog="Run 'wattprint COMMAND --help' for the options and examples of each command.",
    )
    parser.add_argument("--version", action="version", version=f"wattprint {__version__}")
    parser.add_argument("--store", help="store URL or SQLite path for this command ('off' to not store); "
                                        "default: WATTPRINT_STORE, the config files, or the per-user SQLite file")
    commands = parser.add_subparsers(dest="command_name", metavar="COMMAND")
    commands.required = True

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name, help=help_text, description=help_text, epilog=EXAMPLES[name],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    run = command("run", "run a command, measure its energy, store and summarise the run")
    run.add_argument("--project", help="project the run belongs to")
    run.add_argument("--name", help="name of the run (default: the command)")
    run.add_argument("--attribution", choices=("machine", "process", "cgroup"), default="process",
                     help="whose energy to count (default: the command's process tree)")
    run.add_argument("--interval", type=float, dest="interval_s", help="sampling interval in seconds (default 1)")
    run.add_argument("--location", help="where the machine is: FR, US-CA, egrid:CAMX, gcp:europe-west1, ... "
                                        "(see wattprint regions); default: WATTPRINT_LOCATION or the config")
    run.add_argument("--json", action="store_true", help="print the run as one JSON object")
    run.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- CMD ARGS", help="the command to run")

    runs = command("runs", "list recent runs, newest first")
    runs.add_argument("--project", help="only this project's runs")
    runs.add_argument("--limit", type=int, default=20, help="how many runs (default 20; 0 for all)")
    runs.add_argument("--json", action="store_true", help="print a JSON list")

    show = command("show", "show one run: components, methods, uncertainties, tasks and status")
    show.add_argument("run", help="a run id, a unique prefix of one, or 'last'")
    show.add_argument("--json", action="store_true", help="print one JSON object")

    export = command("export", "export runs (or their intervals) as CSV or JSON")
    export.add_argument("--project", help="only this project's runs")
    export.add_argument("--format", choices=("csv", "json"), default=None,
                        help="csv or json (default: from the -o file's extension, else csv)")
    export.add_argument("--intervals", action="store_true", help="export the per-interval records")
    export.add_argument("-o", "--output", help="file to write (default: standard output)")

    regions = command("regions", "list and search known locations and cloud regions with their grid intensity")
    regions.add_argument("query", nargs="?", help="part of a key or name (e.g. 'FR', 'california', 'europe-west')")
    regions.add_argument("--kind", help="only this kind of location (country, us-state, egrid, cloud-region, ...)")
    regions.add_argument("--limit", type=int, default=0, help="at most this many (default: all)")
    regions.add_argument("--json", action="store_true", help="print a JSON list")

    doctor = command("doctor", "check which sensors work here, why others do not, and how to fix them")
    doctor.add_argument("--json", action="store_true", help="print the checks as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from wattprint.errors import WattprintError

    handler = {"run": _run, "runs": _runs, "show": _show, "export": _export, "regions": _regions,
               "doctor": _doctor}[args.command_name]
    try:
        return handler(args, parser)
    except (WattprintError, LookupError) as error:
        message = error.args[0] if isinstance(error, LookupError) and error.args else str(error)
        print(f"wattprint: error: {message}", file=sys.stderr)
        return 1


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _store_setting(args: argparse.Namespace) -> str | None:
    """The store named by --store, else by the configuration (WATTPRINT_STORE, files), else the default."""
    from wattprint.config import load_config

    return load_config({"store": args.store}).get("store")  # type: ignore[return-value]


def _open(args: argparse.Namespace):  # noqa: ANN202 - a RunStore
    from wattprint.store import StoreError, open_store, resolve_store_url

    url = resolve_store_url(_store_setting(args))
    if url is None:
        raise StoreError("storing runs is turned off (store = off): there are no runs to read")
    return open_store(url)


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from wattprint.recorder import component_records, run_record, task_record
    from wattprint.report.summary import format_energy, run_json, run_text
    from wattprint.runner import run_command

    argv = list(args.argv)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        parser.error("run needs a command after --, e.g. wattprint run -- python train.py")
    status_line = sys.stderr.isatty()

    def show(snapshot: Any) -> None:
        sys.stderr.write(
            f"\r\033[Kwattprint  {snapshot.duration_s:7.1f} s  {snapshot.avg_power_w:7.1f} W  "
            f"{format_energy(snapshot.energy_j)}"
        )
        sys.stderr.flush()

    kwargs: dict[str, Any] = {"project": args.project, "name": args.name or argv[0].rsplit("/", 1)[-1],
                              "attribution": args.attribution, "store": args.store}
    if args.interval_s is not None:
        kwargs["interval_s"] = args.interval_s
    if args.location is not None:
        kwargs["location"] = args.location
    try:
        outcome = run_command(argv, on_status=show if status_line else None, **kwargs)
    except (FileNotFoundError, PermissionError) as error:
        print(f"wattprint: error: cannot run {argv[0]!r}: {error.strerror or error}", file=sys.stderr)
        return 127 if isinstance(error, FileNotFoundError) else 126
    if status_line:
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()
    saved = outcome.tracker.wait_saved(timeout=30.0)
    result = outcome.result
    record = run_record(result, updated_at=result.started_at + result.duration_s,
                        ended_at=result.started_at + result.duration_s, tracker=outcome.tracker)
    tasks = [task_record(i, t) for i, t in enumerate(result.tasks)]
    if args.json:
        _print_json(run_json(record, component_records(result), tasks))
    else:
        print(run_text(record, component_records(result), tasks), file=sys.stderr)
        if not saved:
            print("wattprint: the run is still being saved to the store", file=sys.stderr)
    return outcome.exit_code


def _runs(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from wattprint.report.summary import run_json, runs_table

    store = _open(args)
    try:
        runs = store.runs(project=args.project, limit=args.limit or None)
        if args.json:
            _print_json([run_json(run, store.components(run.run_id)) for run in runs])
        else:
            print(runs_table(runs))
    finally:
        store.close()
    return 0


def _show(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from wattprint.report.summary import run_json, run_text

    store = _open(args)
    try:
        run = store.run(args.run)
        components, tasks = store.components(run.run_id), store.tasks(run.run_id)
        if args.json:
            _print_json(run_json(run, components, tasks))
        else:
            print(run_text(run, components, tasks))
    finally:
        store.close()
    return 0


def _export(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from wattprint.report.export import export_runs

    fmt = args.format or ("json" if (args.output or "").endswith(".json") else "csv")
    store = _open(args)
    try:
        text = export_runs(store, project=args.project, fmt=fmt, intervals=args.intervals)
    finally:
        store.close()
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return 0


def _regions(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from wattprint.report.regions import list_regions, region_dict, regions_table

    records = list_regions(args.query, kind=args.kind, limit=args.limit or None)
    if args.json:
        _print_json([region_dict(r) for r in records])
    else:
        print(regions_table(records))
    return 0 if records else 1


def _doctor(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from wattprint.diagnostics import ERROR, diagnose

    checks = diagnose(store=_store_setting(args))
    if args.json:
        _print_json([c.to_dict() for c in checks])
    else:
        marks = {"ok": "ok  ", "warn": "warn", "missing": "--  ", "error": "FAIL"}
        for check in checks:
            print(f"[{marks[check.status]}] {check.area:<7} {check.summary}")
            if check.fix:
                print(f"{'':14} fix: {check.fix}")
    return 1 if any(c.status == ERROR for c in checks) else 0


if __name__ == "__main__":
    raise SystemExit(main())
