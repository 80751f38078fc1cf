"""wattprint show: one run with its components, methods, uncertainties, tasks, status and the requests it served."""

from __future__ import annotations

import argparse
from typing import Any

NAME = "show"
HELP = "show one run (components, methods, uncertainties, tasks, status) or one run group"
EXAMPLES = """examples:
  wattprint show last               # the last run
  wattprint show 01a2b3c4           # a run by a unique prefix of its id
  wattprint show last --json
  wattprint show torchrun-5f1c0e9a2b7d4e31   # a run group (a distributed run): per node, rank, device
  wattprint show 01a2b3c4 --server http://team:8000   # a run on a team server"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="a run id, a unique prefix of one, 'last', or a run group's id")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--server", metavar="URL", help="read the run from this team server instead of a store")
    parser.add_argument("--server-token", metavar="TOKEN",
                        help="the server's token (default: the server_token setting, WATTPRINT_SERVER_TOKEN)")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from wattprint.cli.common import open_store, print_json
    from wattprint.client.remote import open_remote
    from wattprint.report.inference import read_requests, stored_inference
    from wattprint.report.summary import run_json, run_text

    store = open_remote(args.server, args.server_token) if args.server else open_store(args)
    try:
        try:
            record = store.run(args.run)
        except LookupError as failure:
            if not _show_group(store, args):
                where = "on the server" if args.server else "in the store"
                raise LookupError(f"{failure.args[0] if failure.args else failure}; nor is {args.run!r} a run group "
                                  f"{where} (wattprint runs lists both)") from failure
            return 0
        components, tasks = store.components(record.run_id), store.tasks(record.run_id)
        inference = stored_inference(record, read_requests(store, record.run_id))  # docs/inference.md
        if args.json:
            print_json({**run_json(record, components, tasks),
                        "inference": inference.to_dict() if inference is not None else None})
        else:
            print(run_text(record, components, tasks))
            _print_part(record)
            if inference is not None:
                print(f"\nInference\n{inference}")
    finally:
        store.close()
    return 0


def _show_group(store: Any, args: argparse.Namespace) -> bool:
    """Print the run group ``args.run`` names (docs/distributed.md); False when the store (or the server) holds no
    such group."""
    from wattprint.cli.common import print_json
    from wattprint.report.run_groups import group_json, group_json_text, group_text
    from wattprint.report.slurm import sacct_energy
    from wattprint.store.groups import group_totals

    if args.server:  # the server's JSON is group_json's; SLURM's own figure is read where the job ran, not here
        try:
            data = store.group(args.run)
        except LookupError:
            return False
        if args.json:
            print_json(data)
        else:
            print(group_json_text(data))
        return True
    try:
        totals = group_totals(store, args.run)
    except LookupError:
        return False
    job_id = next((p.group.job_id for p in totals.parts if p.group.job_id), None)
    sacct = sacct_energy(job_id)
    if args.json:
        print_json(group_json(totals, sacct))
    else:
        print(group_text(totals, sacct))
    return True


def _print_part(record: Any) -> None:
    """For a part of a run group, the line naming its group."""
    from wattprint.report.run_groups import part_line

    line = part_line(record)
    if line is not None:
        print(line)
