"""wattprint plan: the best time (and place) to start a job, from a live provider's forecast."""

from __future__ import annotations

import argparse

from wattprint.cli.common import PROVIDER_CHOICES
from wattprint.core.units import J_PER_KWH

NAME = "plan"
HELP = "find the start time with the lowest forecast carbon intensity for a job"
EXAMPLES = """examples:
  wattprint plan --duration 6h                                  # where the settings say (location, intensity_zone)
  wattprint plan --duration 90m --deadline 2026-11-24T06:00 --provider uk --zone region:13
  wattprint plan --duration 6h --location DE --location FR --power 350 --json
  wattprint plan --duration 2h --deadline 12h --provider energidataservice --zone DK1

The deadline is when the job must be finished: an ISO time (local unless it ends in Z or an offset) or a
duration from now. A live provider must be set (--provider, or intensity_provider in wattprint.toml; see
https://github.com/wattprint/wattprint/blob/main/docs/live.md)."""

SETTING_OPTIONS = {"intensity_provider": "--provider", "intensity_zone": "--zone"}
"""Settings whose option is named differently, for hints in messages."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--duration", required=True, help="how long the job runs: 6h, 90m, 1h30m, 2d, or seconds")
    parser.add_argument("--location", action="append", default=[], metavar="L",
                        help="a location key (DE, FR, GB, em:DK-DK1, ...); repeat to compare locations")
    parser.add_argument("--zone", help="a provider zone instead of a location (DE, region:13, DK1, CAISO_NORTH)")
    parser.add_argument("--deadline", help="when the job must be finished: ISO time or a duration from now")
    parser.add_argument("--provider", choices=PROVIDER_CHOICES, metavar="PROVIDER",
                        help="live provider: %(choices)s (default: the intensity_provider setting)")
    energy = parser.add_mutually_exclusive_group()
    energy.add_argument("--power", type=float, metavar="W", help="the job's average power in watts, for emissions")
    energy.add_argument("--energy", type=float, metavar="KWH", help="the job's energy in kWh, for emissions")
    parser.add_argument("--json", action="store_true", help="print the plans as one JSON object")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import sys

    from wattprint.cli.common import print_json
    from wattprint.core.formatting import format_duration, format_emissions
    from wattprint.plan.schedule import parse_duration, plan_for

    duration = parse_duration(args.duration, what="--duration")
    if duration <= 0:
        parser.error("--duration must be more than 0")
    if args.zone and args.location:
        parser.error("give --location or --zone, not both")
    energy_kwh = args.energy
    if args.power is not None:
        if args.power < 0:
            parser.error("--power must be at least 0")
        energy_kwh = args.power * duration / J_PER_KWH
    plans = plan_for(args.location or None, duration, args.deadline, provider=args.provider, zone=args.zone,
                     energy_kwh=energy_kwh)
    if args.json:
        print_json(plans.to_dict())
        return 0 if plans.plans else 1
    for where, why in plans.failures:
        print(f"wattprint: {where}: {why}", file=sys.stderr)
    for plan in plans.plans:
        label = plan.location or plan.zone
        start = "now" if plan.wait_s < 1 else f"{_clock(plan.start_s)} (in {format_duration(plan.wait_s)})"
        line = (f"{label}: start {start}: {plan.mean_g_per_kwh:.4g} gCO2e/kWh on average over "
                f"{format_duration(plan.duration_s)}, against {plan.now_mean_g_per_kwh:.4g} if started now")
        if plan.saving_rel > 0.0005:
            line += f" ({plan.saving_rel:.0%} less)"
        print(line)
        if plan.expected_emissions_g is not None and plan.now_emissions_g is not None:
            print(f"  expected {format_emissions(plan.expected_emissions_g)} against "
                  f"{format_emissions(plan.now_emissions_g)} now: saves {format_emissions(plan.saving_g or 0.0)}")
        print(f"  {plan.kind} signal, {plan.provider} zone {plan.zone}; forecast until {_clock(plan.horizon_end_s)}")
        for note in plan.notes:
            print(f"  note: {note}")
    best = plans.best
    if best is not None and len(plans.plans) > 1:
        print(f"best: {best.location or best.zone} at {_clock(best.start_s)}")
    return 0 if plans.plans else 1


def _clock(unix_s: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(unix_s, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
