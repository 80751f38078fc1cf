"""wattprint agent: a long-running exporter of this machine's power and energy (Prometheus /metrics, JSON lines)."""

from __future__ import annotations

import argparse
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.run.agent import Reading

NAME = "agent"
HELP = "export this machine's power and energy continuously, and the top process trees' or cgroups' share"
EXAMPLES = """examples:
  wattprint agent                                   # http://127.0.0.1:9875/metrics, a reading every 5 s
  wattprint agent --addr 0.0.0.0 --top 10           # the 10 process trees drawing most, for a remote Prometheus
  wattprint agent --top 5 --cgroups                 # the 5 control groups (containers, services) drawing most
  wattprint agent --json --count 1 --interval 2     # one reading after 2 s, as JSON, and exit
  wattprint agent --otlp                            # OTLP too, to the otlp_endpoint setting (WATTPRINT_OTLP_ENDPOINT)

Ctrl-C or SIGTERM ends it (exit status 0). With --json each reading is a JSON line on standard output, and
/metrics is served only when --port is given. The exporters' documentation (exporters.md) lists the metrics."""

DEFAULT_PORT = 9875

TRACKER_OPTIONS = {"location": "location", "cpu_tdp_w": "cpu_tdp_w"}
"""Option (its dest) -> the setting it gives; an option not given leaves the setting to the configuration."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, metavar="PORT",
                        help=f"port of the /metrics endpoint (default {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--addr", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; 0.0.0.0 for a Prometheus on another host)")
    parser.add_argument("--interval", type=float, metavar="S",
                        help="seconds between readings (default 5)")
    parser.add_argument("--top", type=int, default=0, metavar="N",
                        help="also show the N process trees (or cgroups, with --cgroups) drawing most power")
    parser.add_argument("--cgroups", action="store_true", help="with --top: control groups instead of process trees")
    parser.add_argument("--tree-root", type=int, default=1, metavar="PID",
                        help="with --top: the process whose children root the trees (default 1)")
    parser.add_argument("--count", type=int, metavar="N", help="stop after N readings (default: until Ctrl-C)")
    parser.add_argument("--location", help="where the machine is, for emissions: FR, US-CA, gcp:europe-west1, ...")
    parser.add_argument("--cpu-tdp-w", type=float, metavar="W",
                        help="maximum power of all the CPUs, in watts, when the TDP table does not know them")
    parser.add_argument("--otlp", action="store_true",
                        help="also send the readings over OTLP/HTTP to the otlp_endpoint setting "
                             "(WATTPRINT_OTLP_ENDPOINT)")
    parser.add_argument("--json", action="store_true", help="print each reading as a JSON line on standard output")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import json
    import signal
    import threading

    from wattprint.cli.common import given
    from wattprint.run.agent import DEFAULT_INTERVAL_S, Agent
    from wattprint.run.agent_metrics import otlp, reading_json, serve

    if args.port is not None and not 0 <= args.port <= 65535:
        parser.error(f"--port must be between 0 and 65535, got {args.port}")
    if args.count is not None and args.count < 1:
        parser.error(f"--count must be 1 or more, got {args.count}")
    if args.top < 0:
        parser.error(f"--top must be 0 or more, got {args.top}")
    if args.cgroups and not args.top:
        parser.error("--cgroups chooses what --top shows: give --top N too, e.g. --top 5 --cgroups")
    interval_s = DEFAULT_INTERVAL_S if args.interval is None else args.interval
    if not interval_s > 0:
        parser.error(f"--interval must be a number of seconds above 0, got {interval_s:g}")

    agent = Agent(interval_s=interval_s, top=args.top, cgroups=args.cgroups, tree_root=args.tree_root,
                  **given(args, TRACKER_OPTIONS))
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    previous = {number: signal.signal(number, on_signal) for number in (signal.SIGINT, signal.SIGTERM)}
    server = exporter = None
    agent.start()
    try:
        if args.otlp:
            try:
                exporter = otlp(agent, settings=agent.tracker.settings)
            except ImportError as error:
                print(f"wattprint: error: --otlp: {error}", file=sys.stderr)
                return 1
        if not args.json or args.port is not None:
            port = DEFAULT_PORT if args.port is None else args.port
            try:
                server = serve(agent, port, args.addr)
            except OSError as error:
                print(f"wattprint: error: cannot serve /metrics on {args.addr}:{port} ({error.strerror or error}); "
                      "choose another with --port", file=sys.stderr)
                return 1
            print(f"wattprint agent: serving {server.url} (a reading every {interval_s:g} s; Ctrl-C to stop)",
                  file=sys.stderr, flush=True)

        def show(reading: Reading) -> None:
            if args.json:
                print(json.dumps(reading_json(reading)), flush=True)

        agent.run(stop, show, count=args.count)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if server is not None:
            server.close()
        if exporter is not None:
            exporter.close()  # a last export
        agent.close()
    return 0
