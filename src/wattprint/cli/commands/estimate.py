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

The power of a named model is its TDP x utilisation (default 1, as ML CO2 Impact and Green Algorithms assume);
memory draws 0.3725 W/GB. Formulas and defaults: https://github.com/wattprint/wattprint/blob/main/docs/estimate.md"""


SETTING_OPTIONS = {"cpu_cores": "--cores"}
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
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from wattprint.cli.common import print_json

    result = workload(args, location=args.location, intensity=args.intensity)
    if args.json:
        print_json(result.to_dict())
    else:
        from wattprint.report.calculator import estimate_text

        print(estimate_text(result))
    return 0
