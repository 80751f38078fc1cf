"""wattprint run: run a command, measure its energy, store and summarise the run."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

from wattprint.cli.common import LazyChoices, add_intensity_provider

NAME = "run"
HELP = "run a command, measure its energy, store and summarise the run"
EXAMPLES = """examples:
  wattprint run -- python train.py --epochs 3
  wattprint run --project mnist --name baseline -- python train.py
  wattprint run --project mnist --tag baseline --tag fp16 -- python train.py
  wattprint run --exporter prometheus --exporter csv-log -- python train.py   # /metrics, emissions.csv too
  wattprint run --json -- ./benchmark.sh > run.json     # the command's own output goes to stderr
  wattprint run --location gcp:europe-west1 -- python train.py
  wattprint run --cpu-tdp-w 65 -- python train.py       # when the TDP table does not know this CPU
  wattprint run --intensity-provider uk --zone region:13 -- python train.py    # time-resolved emissions too
  wattprint run --intensity-provider uk --when-green --threshold 150 --deadline 8h -- python train.py

With --json, standard output carries only the run's JSON: the command's standard output is sent to standard
error, so 'wattprint run --json -- CMD > run.json' always writes valid JSON."""

EXPORTER_CHOICES = LazyChoices("wattprint.run.exporters:exporter_choices")
"""The exporter names for ``--exporter``."""

SETTING_OPTIONS = {"intensity_zone": "--zone", "interval_s": "--interval"}
"""Settings whose option is named differently, for hints in messages."""

TRACKER_OPTIONS = {"project": "project", "attribution": "attribution", "store": "store", "interval_s": "interval_s",
                   "location": "location", "cpu_tdp_w": "cpu_tdp_w", "intensity_provider": "intensity_provider",
                   "zone": "intensity_zone", "tags": "tags", "exporters": "exporters"}
"""Option (its dest) -> the tracker's setting it gives; an option not given leaves the setting to the configuration."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", help="project the run belongs to")
    parser.add_argument("--name", help="name of the run (default: the script, e.g. train.py)")
    parser.add_argument("--tag", action="append", dest="tags", metavar="TAG",
                        help="a label for the run, to filter by ('wattprint runs --tag'); repeat for several")
    parser.add_argument("--exporter", action="append", dest="exporters", metavar="NAME", choices=EXPORTER_CHOICES,
                        help="also send the run to this exporter (prometheus, mlflow, wandb, csv-log, ...; its "
                             "options are settings: 'wattprint config'); repeat for several (default: exporters)")
    parser.add_argument("--attribution", choices=("machine", "process", "cgroup"),
                        help="whose energy to count (default: WATTPRINT_ATTRIBUTION or the config, else the "
                             "command's process tree)")
    parser.add_argument("--interval", type=float, dest="interval_s", metavar="S",
                        help="sampling interval in seconds (default: interval_s, 1)")
    parser.add_argument("--location", help="where the machine is: FR, US-CA, egrid:CAMX, gcp:europe-west1, ... "
                                           "(see wattprint regions); default: WATTPRINT_LOCATION or the config")
    parser.add_argument("--cpu-tdp-w", type=float, metavar="W",
                        help="maximum power of all the CPUs, in watts, when the TDP table does not know them")
    parser.add_argument("--json", action="store_true",
                        help="print the run as one JSON object on stdout (the command's stdout goes to stderr)")
    live = parser.add_argument_group("live carbon intensity and a carbon-aware start")
    add_intensity_provider(live, help="live intensity provider (%(choices)s): also price the run hour by hour "
                                      "(default: the intensity_provider setting)")
    live.add_argument("--zone", help="the provider's zone (default: derived from the location)")
    live.add_argument("--when-green", action="store_true", help="wait for a low-carbon window before starting")
    live.add_argument("--threshold", type=float, metavar="G",
                      help="with --when-green: start once the intensity is at most G gCO2e/kWh")
    live.add_argument("--percentile", type=float, metavar="P",
                      help="with --when-green: start once it is at most the P-th percentile of the forecast")
    live.add_argument("--deadline", help="with --when-green: the latest start, an ISO time or a duration from now")
    live.add_argument("--duration", help="with --when-green and no threshold: the job's length, to start at the "
                                         "best planned time (default: one provider period)")
    parser.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- CMD ARGS", help="the command to run")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from wattprint.cli.common import given, print_run_summary
    from wattprint.report.console import status_line
    from wattprint.run.command import default_run_name, run_command

    argv = list(args.argv)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        parser.error("run needs a command after --, e.g. wattprint run -- python train.py")
    live = sys.stderr.isatty()

    def show(snapshot: Any) -> None:
        sys.stderr.write("\r\033[K" + status_line(snapshot))
        sys.stderr.flush()

    kwargs = given(args, TRACKER_OPTIONS)
    kwargs["name"] = args.name or default_run_name(argv)
    green = _wait_for_green(args, parser, kwargs) if args.when_green else None
    try:
        with _stdout_to_stderr(args.json):
            outcome = run_command(argv, on_status=show if live else None, green_wait=green, **kwargs)
    except OSError as error:
        if error.filename != argv[0] and not isinstance(error, (FileNotFoundError, PermissionError)):
            raise  # not about starting the command
        # as a shell says it: 127 not found, 126 found but not executable (permissions, not a program)
        print(f"wattprint: error: cannot run {argv[0]!r}: {error.strerror or error}", file=sys.stderr)
        return 127 if isinstance(error, FileNotFoundError) else 126
    if live:
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()
    saved = outcome.tracker.wait_saved(timeout=30.0)
    result = outcome.tracker.result or outcome.result  # re-priced if a live value came after the end
    print_run_summary(result, outcome.tracker, saved=saved, as_json=args.json)
    return outcome.exit_code


@contextlib.contextmanager
def _stdout_to_stderr(active: bool) -> Iterator[None]:
    """With --json, the command inherits our stderr as its stdout, so that our stdout carries the JSON alone."""
    if not active:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _wait_for_green(args: argparse.Namespace, parser: argparse.ArgumentParser, kwargs: dict[str, Any]) -> Any:
    """Wait for a green window as --when-green asks, saying on stderr what it waits for and how it ended."""
    from wattprint.core.errors import ConfigError
    from wattprint.plan.schedule import wait_for_green
    from wattprint.report.console import green_started_lines, green_waiting_text
    from wattprint.settings.config import load_config

    if not args.deadline:
        parser.error("--when-green needs --deadline (the latest start: an ISO time or a duration such as 8h)")
    if args.threshold is not None and args.percentile is not None:
        raise ConfigError("give --threshold or --percentile, not both")
    config = load_config({key: kwargs.get(key) for key in ("intensity_provider", "intensity_zone", "location")})
    print(green_waiting_text(args.threshold, args.percentile, args.deadline), file=sys.stderr)
    green = wait_for_green(args.threshold, percentile_of_forecast=args.percentile, deadline=args.deadline,
                           duration_s=args.duration, config=config)
    for line in green_started_lines(green):
        print(line, file=sys.stderr)
    return green
