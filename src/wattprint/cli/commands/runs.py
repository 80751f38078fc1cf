"""wattprint runs: list recent runs, newest first."""

from __future__ import annotations

import argparse
from typing import Any

NAME = "runs"
HELP = "list recent runs, newest first"
EXAMPLES = """examples:
  wattprint runs                              # the last 20 runs
  wattprint runs --project mnist --limit 50   # one project's last 50
  wattprint runs --tag baseline --tag fp16    # runs with both tags
  wattprint runs --json | jq '.[].energy_kwh'
  wattprint runs --server http://team:8000    # a team server's runs, printed the same way
  wattprint runs --duplicates                 # repeated trainings and what the repeats cost
  wattprint runs --duplicates --project mnist --json"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", help="only this project's runs")
    parser.add_argument("--limit", type=int, default=20, help="how many runs (default 20; 0 for all)")
    parser.add_argument("--tag", action="append", dest="tags", metavar="TAG", default=[],
                        help="only runs with this tag; repeat for runs with every tag given")
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.add_argument("--server", metavar="URL", help="read the runs from this team server instead of a store")
    parser.add_argument("--server-token", metavar="TOKEN",
                        help="the server's token (default: the server_token setting, WATTPRINT_SERVER_TOKEN)")
    parser.add_argument("--duplicates", action="store_true",
                        help="list groups of runs with the same config fingerprint (hyperparameters and code "
                             "version) and the energy and emissions of the repeats; looks at all runs")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from wattprint.cli.common import error, open_store, print_json
    from wattprint.client.remote import open_remote
    from wattprint.report.summary import run_json

    store = open_remote(args.server, args.server_token) if args.server else open_store(args)
    if args.duplicates:
        return _duplicates(store, args)
    try:
        runs = _runs(store, args)
        missing = None
        if not runs and args.project is not None and (not args.tags or not store.runs(project=args.project, limit=1)):
            missing = _unknown_project(store, args.project)
        if args.json:
            print_json([_with_group(run_json(run, store.components(run.run_id)), run) for run in runs])
        elif not runs and args.tags and missing is None:
            print(f"no runs with the tag{'s' if len(args.tags) > 1 else ''} {', '.join(args.tags)}"
                  + (f" in project {args.project!r}" if args.project else ""))
        elif missing is None:
            print(_table(store, runs, args))
    finally:
        store.close()
    if missing is not None:
        error(missing)
        return 1
    return 0


def _runs(store: Any, args: argparse.Namespace) -> list[Any]:
    """The runs asked for, newest first: a store's through its queries when tags are given, a server's by its API."""
    if not args.tags:
        return list(store.runs(project=args.project, limit=args.limit or None))
    if args.server:
        return list(store.runs(project=args.project, limit=args.limit or None, tags=tuple(args.tags)))
    from wattprint.store.queries import RunFilter, find_runs

    return find_runs(store, RunFilter(project=args.project, tags=tuple(args.tags)), limit=args.limit or None)


def _unknown_project(store: Any, project: str) -> str:
    """Why a project has no runs: the projects the store does have, and the closest name."""
    import difflib

    known = store.projects()
    if not known:
        some = bool(store.runs(limit=1))
        return f"project {project!r} has no runs: " + (
            f"no run in the store {store.url} belongs to a project (give --project to 'wattprint run')" if some
            else f"the store {store.url} has no runs yet")
    close = difflib.get_close_matches(project, known, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"project {project!r} has no runs in the store; {hint}projects: {', '.join(repr(p) for p in known)}"


def _duplicates(store: Any, args: argparse.Namespace) -> int:
    """``--duplicates``: groups of runs with one config fingerprint (closes ``store``, a RunStore)."""
    from wattprint.cli.common import print_json
    from wattprint.report.duplicates import duplicates_json, duplicates_text, find_duplicates

    try:
        groups = find_duplicates(store.runs(project=args.project, limit=None))
    finally:
        store.close()
    if args.json:
        print_json(duplicates_json(groups))
    else:
        print(duplicates_text(groups))
    return 0


def _table(store: Any, runs: list[Any], args: argparse.Namespace) -> str:
    """The runs, each run group's parts folded into one line with its parts count (docs/distributed.md)."""
    from wattprint.report.summary import runs_table

    ids = {run.details.group.group_id for run in runs if run.details.group is not None}
    if not ids:
        return runs_table(runs)
    from wattprint.report.run_groups import GroupLine, runs_with_groups

    if args.server:
        groups = {group_id: GroupLine.of_json(store.group(group_id)) for group_id in ids}
    else:
        from wattprint.store.groups import group_totals

        groups = {group_id: GroupLine.of_totals(group_totals(store, group_id)) for group_id in ids}
    return runs_with_groups(runs, groups)


def _with_group(found: dict[str, Any], run: Any) -> dict[str, Any]:
    """A run's JSON object with, for a part of a run group, its place in the group."""
    group = run.details.group
    if group is not None:
        from dataclasses import asdict

        found["group"] = asdict(group)
    return found
