"""wattprint run: run a command, measure its energy, store and summarise the run."""

from __future__ import annotations

import argparse
import sys
from typing import Any

NAME = "run"
HELP = "run a command, measure its energy, store and summarise the run"
EXAMPLES = """examples:
  wattprint run -- python train.py --epochs 3
  wattprint run --project mnist --name baseline -- python train.py
  wattprint run --attribution machine --json -- ./benchmark.sh > run.json
  wattprint run --location gcp:europe-west1 -- python train.py"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", help="project the run belongs to")
    parser.add_argument("--name", help="name of the run (default: the command)")
    parser.add_argument("--attribution", choices=("machine", "process", "cgroup"), default="process",
                        help="whose energy to count (default: the command's process tree)")
    parser.add_argument("--interval", type=float, dest="interval_s", help="sampling interval in seconds (default 1)")
    parser.add_argument("--location", help="where the machine is: FR, US-CA, egrid:CAMX, gcp:europe-west1, ... "
                                           "(see wattprint regions); default: WATTPRINT_LOCATION or the config")
    parser.add_argument("--json", action="store_true", help="print the run as one JSON object")
    parser.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- CMD ARGS", help="the command to run")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from wattprint.cli.common import print_json
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
        print_json(run_json(record, component_records(result), tasks))
    else:
        print(run_text(record, component_records(result), tasks), file=sys.stderr)
        if not saved:
            print("wattprint: the run is still being saved to the store", file=sys.stderr)
    return outcome.exit_code
