"""wattprint push: send the store's runs that a team server does not have yet."""

from __future__ import annotations

import argparse

NAME = "push"
HELP = "send the runs a team server does not have yet (imported ones included)"
EXAMPLES = """examples:
  wattprint push                                   # to the server setting (WATTPRINT_SERVER)
  wattprint push --project mnist                   # one project's runs
  wattprint push --server http://team:8000 --server-token wp_...
  wattprint push --json

Every run the server has not acknowledged goes, whole, in batches; sending one again never duplicates it. The
exit status is 1 when the server refuses a run or cannot be reached; what was not sent stays unsent."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", help="only this project's runs")
    parser.add_argument("--server", metavar="URL", help="the team server (default: the server setting)")
    parser.add_argument("--server-token", metavar="TOKEN",
                        help="its token (default: the server_token setting, WATTPRINT_SERVER_TOKEN)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from wattprint.cli.common import open_store, print_json
    from wattprint.client.http import ServerClient
    from wattprint.client.push import push
    from wattprint.client.remote import server_settings

    server, token = server_settings(args.server, args.server_token)
    store = open_store(args)
    try:
        with ServerClient(server, token) as client:
            result = push(store, client, project=args.project)
    finally:
        store.close()
    if args.json:
        print_json(result.to_dict())
    else:
        print(result.summary())
    return 0 if result.ok else 1
