"""wattprint bench-inference: run a local model on a set of prompts and report its energy per request and token."""

from __future__ import annotations

import argparse

NAME = "bench-inference"
HELP = "measure a local model's inference energy per request and per token, over the steady state; store the run"
EXAMPLES = """examples:
  wattprint bench-inference --model ./tiny-llm --prompts prompts.txt --batch-size 8 --requests 200
  wattprint bench-inference --model ./llm --prompts prompts.jsonl --max-new-tokens 64 --location FR --json

The model directory is loaded with transformers (local files only: nothing is downloaded). --warmup batches run
before the measured run; the requests are then sent back to back in batches, and the figures are given over the
steady state (every request of a full batch in flight, as the ML.ENERGY benchmark does), with the whole run's
beside them. The run is stored like any other ('wattprint show last' shows it again)."""

TRACKER_OPTIONS = {"project": "project", "store": "store", "location": "location", "cpu_tdp_w": "cpu_tdp_w"}
"""Option (its dest) -> the tracker's setting it gives; an option not given leaves the setting to the configuration."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", metavar="PATH", required=True, help="a local model directory (save_pretrained)")
    parser.add_argument("--task", default="text-generation", metavar="TASK",
                        help="what the model does (default: text-generation)")
    parser.add_argument("--prompts", metavar="FILE", required=True,
                        help="one prompt per line, or JSON Lines with a \"prompt\"; cycled to make --requests")
    parser.add_argument("--batch-size", type=int, default=1, metavar="N", help="prompts served together (default: 1)")
    parser.add_argument("--requests", type=int, default=100, metavar="N", help="requests to send (default: 100)")
    parser.add_argument("--max-new-tokens", type=int, default=32, metavar="N",
                        help="tokens generated per prompt at most (default: 32)")
    parser.add_argument("--warmup", type=int, default=1, metavar="N",
                        help="batches served before measuring, left out of the figures (default: 1)")
    parser.add_argument("--threads", type=int, metavar="N", help="CPU threads for the model (default: torch's)")
    parser.add_argument("--project", help="project the run belongs to")
    parser.add_argument("--location", help="where the machine is: FR, US-CA, gcp:europe-west1, ... "
                                           "(see wattprint regions); default: WATTPRINT_LOCATION or the config")
    parser.add_argument("--cpu-tdp-w", type=float, metavar="W",
                        help="maximum power of all the CPUs, in watts, when the TDP table does not know them")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from wattprint.cli.common import given, print_json
    from wattprint.integrations.bench_inference import bench_inference, read_prompts

    result = bench_inference(
        args.model, read_prompts(args.prompts), task=args.task, batch_size=args.batch_size, requests=args.requests,
        max_new_tokens=args.max_new_tokens, warmup_batches=args.warmup, threads=args.threads,
        **given(args, TRACKER_OPTIONS),
    )
    if args.json:
        print_json(result.to_dict())
        return 0
    from wattprint.report.inference import bench_text

    print(bench_text(result))
    return 0
