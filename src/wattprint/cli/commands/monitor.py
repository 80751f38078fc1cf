"""wattprint monitor: measure the whole machine until Ctrl-C, SIGTERM or --duration, and store it as a run."""

from __future__ import annotations

import argparse
import sys
from typing import Any

NAME = "monitor"
HELP = "measure the whole machine until Ctrl-C (or SIGTERM, or --duration), with a live status line; store the run"
EXAMPLES = """examples:
  wattprint monitor                                 # until Ctrl-C
  wattprint monitor --duration 3600 --project lab   # one hour, filed under a project
  wattprint monitor --location FR --json > machine.json

The machine is measured as a whole (attribution machine: every process, as CodeCarbon's monitor does). Ctrl-C or
SIGTERM ends the run normally: it is stored as finished and summarised ('wattprint show last' shows it again)."""

SETTING_OPTIONS = {"interval_s": "--interval"}
"""Settings whose option is named differently, for hints in messages."""

TRACKER_OPTIONS = {"project": "project", "store": "store", "interval_s": "interval_s", "location": "location",
                   "cpu_tdp_w": "cpu_tdp_w"}
"""Option (its dest) -> the tracker's setting it gives; an option not given leaves the setting to the configuration."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--duration", type=float, metavar="S", help="stop after S seconds (default: until Ctrl-C)")
    parser.add_argument("--project", help="project the run belongs to")
    parser.add_argument("--name", default="monitor", help="name of the run (default: monitor)")
    parser.add_argument("--location", help="where the machine is: FR, US-CA, gcp:europe-west1, ... "
                                           "(see wattprint regions); default: WATTPRINT_LOCATION or the config")
    parser.add_argument("--interval", type=float, dest="interval_s", metavar="S",
                        help="sampling interval in seconds (default: interval_s, 1)")
    parser.add_argument("--cpu-tdp-w", type=float, metavar="W",
                        help="maximum power of all the CPUs, in watts, when the TDP table does not know them")
    parser.add_argument("--json", action="store_true", help="print the run as one JSON object at the end")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import signal
    import threading

    from wattprint.cli.common import given, print_run_summary
    from wattprint.core.errors import ConfigError
    from wattprint.report.console import monitoring_text
    from wattprint.run.tracker import Tracker

    if args.duration is not None and not args.duration > 0:
        raise ConfigError(f"--duration must be a number of seconds above 0, got {args.duration:g}")

    settings = given(args, TRACKER_OPTIONS)
    tracker = Tracker(settings.pop("project", None), args.name, attribution="machine", **settings)
    tracker.command = "wattprint monitor"
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, frame: object) -> None:
        received.append(signum)
        stop.set()

    tracker.start()
    previous = {number: signal.signal(number, on_signal) for number in (signal.SIGINT, signal.SIGTERM)}
    live = sys.stderr.isatty()
    try:
        if not live:
            print(monitoring_text(args.duration), file=sys.stderr, flush=True)
        import time

        deadline = None if args.duration is None else time.monotonic() + args.duration
        while not stop.is_set():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            stop.wait(1.0 if left is None else min(1.0, left))
            if live:
                _status(tracker.snapshot())
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if live:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
        result = tracker.stop("finished")
    saved = tracker.wait_saved(timeout=30.0)
    print_run_summary(result, tracker, saved=saved, as_json=args.json)
    return 0


def _status(snapshot: Any) -> None:
    from wattprint.report.console import status_line

    sys.stderr.write("\r\033[K" + status_line(snapshot, label="wattprint monitor", hint="(Ctrl-C to stop)"))
    sys.stderr.flush()
