"""wattprint estimate: the energy, emissions and water of a job before (or without) running it."""

from __future__ import annotations

import argparse

NAME = "estimate"
HELP = "estimate a job's energy, emissions and water from its hardware and duration, or re-price a run"
EXAMPLES = """examples:
  wattprint estimate --gpu "A100 SXM4 80GB" --count 8 --hours 24 --location gcp:europe-west4
  wattprint estimate --cpu "Xeon Gold 6248" --cores 12 --memory-gb 64 --hours 10 --location US-CA
  wattprint estimate --cpu-tdp-w 65 --hours 10 --location FR              # a CPU the table does not know
  wattprint estimate --power-w 300 --hours 100 --intensity 429 --pue 1     # ML CO2 Impact's arithmetic
  wattprint estimate --from-run last --location SE3 --json                  # a measured run, priced elsewhere
  wattprint estimate --inference --params 8e9 --tokens 500 --gpu "H100 SXM" --location FR  # one chat answer
  wattprint estimate --inference --images 1 --model FLUX.1-dev --gpu B200                 # one image

The power of a named model is its TDP x utilisation (default 1, as ML CO2 Impact and Green Algorithms assume);
memory draws 0.3725 W/GB. Formulas and defaults: https://github.com/wattprint/wattprint/blob/main/docs/estimate.md
--inference estimates one query to a served model from the ML.ENERGY Leaderboard's measurements (GPU energy):
https://github.com/wattprint/wattprint/blob/main/docs/inference.md#services-you-do-not-run"""


SETTING_OPTIONS = {"cpu_cores": "--cores", "tokens_out": "--tokens"}
"""Parameters whose option is named differently, for hints in messages."""


def add_workload_arguments(parser: argparse.ArgumentParser, *, location_help: str) -> None:
    """The hardware, duration and location options shared by ``estimate`` and ``compare-regions``."""
    hardware = parser.add_argument_group("hardware (TDP x utilisation; or --power-w; or --from-run)")
    hardware.add_argument("--gpu", metavar="NAME", help="GPU model, from the TDP table (e.g. 'A100 SXM4 80GB', 'T4')")
    hardware.add_argument("--cpu", metavar="NAME", help="CPU model, from the TDP table (e.g. 'Xeon Gold 6248')")
    hardware.add_argument("--count", type=int, metavar="N",
                          help="how many: of the GPU when one is named, else of the CPU, else of --power-w (default 1)")
    hardware.add_argument("--gpu-count", type=int, metavar="N", help="how many GPUs (when --count is for the CPU)")
    hardware.add_argument("--cpu-count", type=int, metavar="N", help="how many CPUs (sockets)")
    hardware.add_argument("--cores", type=int, metavar="N",
                          help="CPU cores used, instead of whole CPUs (TDP / the model's cores x N, as Green "
                               "Algorithms counts)")
    hardware.add_argument("--cpu-tdp-w", type=float, metavar="W",
                          help="one CPU's TDP in watts, instead of the table's for --cpu (or a CPU of that TDP)")
    hardware.add_argument("--power-w", type=float, metavar="W",
                          help="average power of one device in watts, instead of a model name")
    hardware.add_argument("--memory-gb", type=float, metavar="GB", help="memory in GB, at 0.3725 W per GB")
    hardware.add_argument("--utilization", type=float, metavar="U",
                          help="share of TDP drawn, 0 to 1 (default 1)")
    hardware.add_argument("--gpu-utilization", type=float, metavar="U", help="the GPUs' utilisation, 0 to 1")
    hardware.add_argument("--cpu-utilization", type=float, metavar="U", help="the CPUs' utilisation, 0 to 1")
    hardware.add_argument("--hours", type=float, metavar="H", help="how long the job runs")
    hardware.add_argument("--from-run", metavar="RUN",
                          help="a stored run (id, prefix or 'last') whose measured IT energy is priced instead")
    where = parser.add_argument_group("where")
    where.add_argument("--location", metavar="LOC", help=location_help)
    where.add_argument("--intensity", type=float, metavar="G_PER_KWH",
                       help="grid carbon intensity in gCO2e/kWh, instead of the location's")
    where.add_argument("--pue", type=float, metavar="P",
                       help="PUE (default: the provider's for a cloud region, else 1.56)")
    where.add_argument("--wue", type=float, metavar="L_PER_KWH", help="water usage effectiveness in L/kWh")


_HARDWARE = ("gpu", "cpu", "count", "gpu_count", "cpu_count", "cores", "cpu_tdp_w", "power_w", "memory_gb",
             "utilization",
             "gpu_utilization", "cpu_utilization", "hours")


def workload(args: argparse.Namespace, *, location: str | None, intensity: float | None = None):  # noqa: ANN201
    """The Estimate the options describe: a re-priced stored run (--from-run), else the calculator."""
    from wattprint.core.errors import ConfigError
    from wattprint.plan.estimate import estimate, estimate_run

    if args.from_run is not None:
        given = [f"--{name.replace('_', '-')}" for name in _HARDWARE if getattr(args, name) is not None]
        if given:
            raise ConfigError(f"--from-run prices a measured run: {', '.join(given)} cannot be used with it")
        from wattprint.cli.common import open_store

        store = open_store(args)
        try:
            record = store.run(args.from_run)
            components = store.components(record.run_id)
        finally:
            store.close()
        return estimate_run(record, components, location=location, intensity=intensity, pue=args.pue, wue=args.wue)
    if args.hours is None:
        raise ConfigError("give --hours (how long the job runs), or --from-run RUN to price a measured run")
    return estimate(
        hours=args.hours, gpu=args.gpu, cpu=args.cpu, count=args.count, gpu_count=args.gpu_count,
        cpu_count=args.cpu_count, cpu_cores=args.cores, cpu_tdp_w=args.cpu_tdp_w, power_w=args.power_w,
        memory_gb=args.memory_gb,
        utilization=args.utilization, gpu_utilization=args.gpu_utilization, cpu_utilization=args.cpu_utilization,
        location=location, intensity=intensity, pue=args.pue, wue=args.wue,
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_workload_arguments(
        parser, location_help="where it runs: country, zone or cloud region ('FR', 'US-CA', 'gcp:europe-west1'); "
                              "default: the configured location"
    )
    inference = parser.add_argument_group(
        "inference (--inference: one query to a served model, from the ML.ENERGY Leaderboard's GPU measurements)")
    inference.add_argument("--inference", action="store_true",
                           help="estimate the energy and emissions per query of a model you do not run")
    inference.add_argument("--params", type=float, metavar="N",
                           help="the model's parameter count (8e9 for 8B); or --model")
    inference.add_argument("--active-params", type=float, metavar="N",
                           help="parameters active per token, for a mixture of experts (3e9 for 30B-A3B)")
    inference.add_argument("--model", metavar="NAME",
                           help="a model the leaderboard measured, instead of --params (e.g. 'Llama-3.1-8B', "
                                "'FLUX.1-dev')")
    inference.add_argument("--tokens", type=float, metavar="N", help="output tokens per query (LLM tasks)")
    inference.add_argument("--tokens-in", type=int, metavar="N",
                           help="prompt tokens per query (recorded; the per-token figures include a typical prefill)")
    inference.add_argument("--images", type=float, metavar="N", help="images per query (text-to-image)")
    inference.add_argument("--videos", type=float, metavar="N", help="videos per query (text-to-video)")
    inference.add_argument("--task", metavar="TASK",
                           help="chat (default for --tokens), reasoning, code, image-chat, video-chat, text-to-image "
                                "(default for --images), text-to-video (default for --videos)")
    inference.add_argument("--batch", type=int, metavar="N",
                           help="the server's batch limit (vLLM max_num_seqs; images per batch); default: unknown, "
                                "the whole measured range")
    inference.add_argument("--precision", metavar="P", help="bfloat16, fp8 or mxfp4 (default: any measured)")
    inference.add_argument("--host-overhead", type=float, metavar="F",
                           help="host CPU and memory energy as a fraction of the GPU's (default 0: GPU only)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


_INFERENCE = ("params", "active_params", "model", "tokens", "tokens_in", "images", "videos", "task", "batch",
              "precision", "host_overhead")
_NOT_INFERENCE = tuple(name for name in (*_HARDWARE, "from_run", "wue") if name != "gpu")


def _option(name: str) -> str:
    return f"--{name.replace('_', '-')}"


def inference(args: argparse.Namespace, parser: argparse.ArgumentParser):  # noqa: ANN201
    """The InferenceEstimate the --inference options describe. A missing option is a usage error; options that do
    not go together are a failure (docs/cli.md)."""
    from wattprint.core.errors import ConfigError
    from wattprint.plan.inference import estimate_inference

    clash = [_option(name) for name in _NOT_INFERENCE if getattr(args, name) is not None]
    if clash:
        raise ConfigError(f"--inference estimates one query to a served model: {', '.join(clash)} cannot be used "
                          "with it (they describe a job's hardware and duration)")
    if args.params is None and args.model is None:
        parser.error("--inference needs --params (the model's parameter count, 8e9 for 8B) or --model (a measured "
                     "model)")
    if args.params is not None and args.model is not None:
        raise ConfigError("give --params (a model size) or --model (a measured model), not both")
    counts = [_option(name) for name in ("tokens", "images", "videos") if getattr(args, name) is not None]
    if not counts:
        parser.error("--inference needs what one query produces: --tokens (output tokens), --images or --videos")
    if len(counts) > 1:
        raise ConfigError(f"one query is priced per token, image or video: give one of {' and '.join(counts)}")
    return estimate_inference(
        args.params, tokens_out=args.tokens, tokens_in=args.tokens_in, images=args.images, videos=args.videos,
        active_params=args.active_params, model=args.model, gpu=args.gpu or "H100 SXM", batch=args.batch,
        precision=args.precision, task=args.task, location=args.location, intensity=args.intensity, pue=args.pue,
        host_overhead=0.0 if args.host_overhead is None else args.host_overhead,
    )


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from wattprint.cli.common import print_json

    if args.inference:
        estimate = inference(args, parser)
        if args.json:
            print_json(estimate.to_dict())
        else:
            print("\n".join(estimate.lines()))
        return 0
    given = [_option(name) for name in _INFERENCE if getattr(args, name) is not None]
    if given:
        parser.error(f"{', '.join(given)} describe one query to a served model: add --inference")
    result = workload(args, location=args.location, intensity=args.intensity)
    if args.json:
        print_json(result.to_dict())
    else:
        from wattprint.report.calculator import estimate_text

        print(estimate_text(result))
    return 0
