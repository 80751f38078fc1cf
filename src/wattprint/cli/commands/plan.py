"""wattprint plan: the best time (and place) to start a job, from a live provider's forecast."""

from __future__ import annotations

import argparse

from wattprint.cli.common import add_intensity_provider
from wattprint.core.units import J_PER_KWH

NAME = "plan"
HELP = "find the start time with the lowest forecast carbon intensity for a job"
EXAMPLES = """examples:
  wattprint plan --duration 6h                                  # where the settings say (location, intensity_zone)
  wattprint plan --duration 90m --deadline 2026-11-24T06:00 --intensity-provider uk --zone region:13
  wattprint plan --duration 6h --location DE --location FR --power-w 350 --json
  wattprint plan --duration 2h --deadline 12h --intensity-provider energidataservice --zone DK1

The deadline is when the job must be finished: an ISO time (local unless it ends in Z or an offset) or a
duration from now. A live provider must be set (--intensity-provider, or intensity_provider in wattprint.toml; see
https://github.com/wattprint/wattprint/blob/main/docs/live.md)."""

SETTING_OPTIONS = {"intensity_zone": "--zone"}
"""Settings whose option is named differently, for hints in messages."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--duration", required=True, help="how long the job runs: 6h, 90m, 1h30m, 2d, or seconds")
    parser.add_argument("--location", action="append", default=[], metavar="L",
                        help="a location key (DE, FR, GB, em:DK-DK1, ...); repeat to compare locations")
    parser.add_argument("--zone", help="a provider zone instead of a location (DE, region:13, DK1, CAISO_NORTH)")
    parser.add_argument("--deadline", help="when the job must be finished: ISO time or a duration from now")
    add_intensity_provider(parser, help="live intensity provider: %(choices)s (default: the intensity_provider "
                                        "setting)")
    energy = parser.add_mutually_exclusive_group()
    # named as in estimate and compare-regions; --power and --energy, the first names, still work
    energy.add_argument("--power-w", "--power", type=float, metavar="W",
                        help="the job's average power in watts, for emissions")
    energy.add_argument("--energy-kwh", "--energy", type=float, metavar="KWH",
                        help="the job's energy in kWh, for emissions")
    parser.add_argument("--json", action="store_true", help="print the plans as one JSON object")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import sys

    from wattprint.cli.common import print_json
    from wattprint.core.errors import ConfigError
    from wattprint.plan.schedule import parse_duration, plan_for
    from wattprint.report.console import plan_failure_lines, plans_text

    duration = parse_duration(args.duration, what="--duration")
    if duration <= 0:
        raise ConfigError(f"--duration must be more than 0, got {args.duration!r}")
    if args.zone and args.location:
        raise ConfigError("give --location or --zone, not both")
    energy_kwh = args.energy_kwh
    if args.power_w is not None:
        if not args.power_w >= 0:
            raise ConfigError(f"--power-w must be at least 0 watts, got {args.power_w:g}")
        energy_kwh = args.power_w * duration / J_PER_KWH
    plans = plan_for(args.location or None, duration, args.deadline, provider=args.intensity_provider, zone=args.zone,
                     energy_kwh=energy_kwh)
    if args.json:
        print_json(plans.to_dict())
        return 0 if plans.plans else 1
    for line in plan_failure_lines(plans):
        print(line, file=sys.stderr)
    if plans.plans:
        print(plans_text(plans))
    return 0 if plans.plans else 1
