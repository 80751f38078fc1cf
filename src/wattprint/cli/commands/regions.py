"""wattprint regions: list and search known locations and cloud regions with their grid intensity."""

from __future__ import annotations

import argparse

NAME = "regions"
HELP = "list and search known locations and cloud regions with their grid intensity"
EXAMPLES = """examples:
  wattprint regions                     # every country, zone and cloud region
  wattprint regions europe-west         # search keys and names
  wattprint regions --kind cloud-region --json"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", nargs="?", help="part of a key or name (e.g. 'FR', 'california', 'europe-west')")
    parser.add_argument("--kind", help="only this kind of location (country, us-state, egrid, cloud-region, ...)")
    parser.add_argument("--limit", type=int, default=0, help="at most this many (default: all)")
    parser.add_argument("--json", action="store_true", help="print a JSON list")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from wattprint.cli.common import error, print_json
    from wattprint.report.regions import list_regions, region_dict, regions_table

    records = list_regions(args.query, kind=args.kind, limit=args.limit or None)
    if args.json:
        print_json([region_dict(r) for r in records])
    elif records:
        print(regions_table(records))
    else:
        asked = " ".join(filter(None, (repr(args.query) if args.query else None,
                                       f"of kind {args.kind!r}" if args.kind else None)))
        error(f"no location matches {asked or 'at all'}: 'wattprint regions' lists them all, and their kinds")
    return 0 if records else 1
