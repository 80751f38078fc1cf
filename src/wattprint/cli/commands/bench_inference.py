"""wattprint bench-inference: run a local model on a set of prompts and report its energy per request and token."""

from __future__ import annotations

import argparse

NAME = "bench-inference"
HELP = "measure a local model's inference energy per request and per token (issue 17)"
EXAMPLES = """examples:
  wattprint bench-inference --model ./tiny-llm --task text-generation --prompts prompts.txt --requests 100"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", metavar="PATH", required=True, help="a local model directory")
    parser.add_argument("--requests", type=int, default=100, help="how many requests to send")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    parser.error("bench-inference is being built (issue 17)")
    return 2
