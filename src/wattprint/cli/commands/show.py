"""wattprint show: one run with its components, methods, uncertainties, tasks and status."""

from __future__ import annotations

import argparse

NAME = "show"
HELP = "show one run: components, methods, uncertainties, tasks and status"
EXAMPLES = """examples:
  wattprint show last               # the last run
  wattprint show 01a2b3c4           # a run by a unique prefix of its id
  wattprint show last --json
  wattprint show 01a2b3c4 --server http://team:8000   # a run on a team server"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="a run id, a unique prefix of one, or 'last'")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--server", metavar="URL", help="read the run from this team server instead of a store")
    parser.add_argument("--server-token", metavar="TOKEN",
                        help="the server's token (default: the server_token setting, WATTPRINT_SERVER_TOKEN)")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from wattprint.cli.common import open_store, print_json
    from wattprint.client.remote import open_remote
    from wattprint.report.summary import run_json, run_text

    store = open_remote(args.server, args.server_token) if args.server else open_store(args)
    try:
        record = store.run(args.run)
        components, tasks = store.components(record.run_id), store.tasks(record.run_id)
        if args.json:
            print_json(run_json(record, components, tasks))
        else:
            print(run_text(record, components, tasks))
    finally:
        store.close()
    return 0
