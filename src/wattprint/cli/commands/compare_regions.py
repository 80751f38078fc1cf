"""wattprint compare-regions: the same work priced in every region of some providers, or at a list of locations."""

from __future__ import annotations

import argparse

NAME = "compare-regions"
HELP = "price the same work in every region of some cloud providers, or at a list of locations, greenest first"
EXAMPLES = """examples:
  wattprint compare-regions --gpu "A100 SXM4 80GB" --count 8 --hours 24 --provider gcp --location gcp:us-east4
  wattprint compare-regions --from-run last --provider aws --provider azure --near FR
  wattprint compare-regions --energy-kwh 120 --locations FR,DE,PL,SE3 --location DE --json

Each location is priced with its own grid intensity and its provider's PUE (or --pue). The ratio column divides
by the reference (--location, or the run's location with --from-run), else by the greenest."""


SETTING_OPTIONS = {"cpu_cores": "--cores", "providers": "--provider", "locations": "--locations"}
"""Parameters whose option is named differently, for hints in messages."""


def _split(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from wattprint.cli.commands.estimate import add_workload_arguments

    add_workload_arguments(
        parser, location_help="the reference location the others are compared with (default: the run's location "
                              "with --from-run)"
    )
    parser.add_argument("--energy-kwh", type=float, metavar="E", help="IT energy to price, instead of an estimate")
    parser.add_argument("--energy-uncertainty", type=float, metavar="U", default=0.0,
                        help="relative uncertainty of --energy-kwh (default 0)")
    compare = parser.add_argument_group("what to compare")
    compare.add_argument("--provider", action="append", metavar="P",
                         help="every region of this provider (gcp, aws, azure, ovh, ...); repeat or comma-separate")
    compare.add_argument("--locations", action="append", metavar="LOC,LOC",
                         help="these locations (countries, zones, regions), comma-separated")
    compare.add_argument("--near", metavar="LOC",
                         help="show the greenest choices in this location's country and continent "
                              "(default: the reference)")
    compare.add_argument("--limit", type=int, default=0, metavar="N", help="show only the N greenest (default: all)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from wattprint.cli.common import print_json
    from wattprint.core.errors import ConfigError
    from wattprint.plan.compare import compare_estimate, compare_regions
    from wattprint.report.console import energy_workload_text

    providers, locations = _split(args.provider), _split(args.locations)
    if args.intensity is not None:
        raise ConfigError("compare-regions prices every location with its own intensity: --intensity cannot be used")
    if args.energy_kwh is not None:
        if args.from_run is not None or args.hours is not None:
            raise ConfigError("--energy-kwh is the work to price: give it, or an estimate (--hours ...), or --from-run")
        comparison = compare_regions(
            args.energy_kwh, args.energy_uncertainty, providers=providers, locations=locations,
            reference=args.location, near=args.near, pue=args.pue, wue=args.wue,
            workload=energy_workload_text(args.energy_kwh),
        )
    else:
        from wattprint.cli.commands.estimate import workload

        priced = workload(args, location=args.location)
        comparison = compare_estimate(priced, providers=providers, locations=locations, reference=args.location,
                                      near=args.near, pue=args.pue, wue=args.wue)
    if args.json:
        print_json(comparison.to_dict())
    else:
        from wattprint.report.calculator import comparison_text

        print(comparison_text(comparison, limit=args.limit or None))
    return 0
