"""wattprint agent: a long-running exporter of this machine's energy (Prometheus, OpenTelemetry)."""

from __future__ import annotations

import argparse

NAME = "agent"
HELP = "export this machine's power and energy continuously (issue 18)"
EXAMPLES = """examples:
  wattprint agent --port 9875"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=9875, help="the port of the /metrics endpoint")
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    parser.error("agent is being built (issue 18)")
    return 2
