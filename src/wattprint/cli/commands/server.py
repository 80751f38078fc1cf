"""wattprint server: run the team server, manage its tokens, print its OpenAPI document."""

from __future__ import annotations

import argparse
from typing import Any

NAME = "server"
HELP = "run the team server (API v1 over the store), manage its tokens"
EXAMPLES = """examples:
  wattprint server                                        # 127.0.0.1:8000 over the local store
  wattprint server --host 0.0.0.0 --store postgresql://wattprint@db/wattprint   # a team's server
  wattprint server token create --scope ingest --project mnist --name ci
  wattprint server token list --json
  wattprint server token revoke 3f9a0c12d4e5
  wattprint server openapi -o openapi.json                # the API's OpenAPI document

The first start creates the server key and an admin token, printed once. Bound to an address other than
loopback, the server refuses requests without a token (see
https://github.com/wattprint/wattprint/blob/main/docs/server.md)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; any other address requires tokens)")
    parser.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    parser.add_argument("--max-body-mb", type=float, default=32.0, metavar="MB",
                        help="largest request body accepted, in MiB (default 32); larger ones get 413")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="server processes (default 1); more use more cores, each with its own token cache")
    parser.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN", dest="cors_origins",
                        help="let scripts of web pages from ORIGIN (https://app.example.org, or *) call the API from "
                             "a browser; repeat for several")
    parser.add_argument("--json", action="store_true",
                        help="print data as JSON: the first start's admin token, a new token, the token list")
    actions = parser.add_subparsers(dest="server_action", metavar="ACTION")
    token = actions.add_parser("token", help="create, list or revoke API tokens (works on the store directly)",
                               description="Create, list or revoke the server's API tokens, in the store.")
    token_actions = token.add_subparsers(dest="token_action", metavar="ACTION")
    token_actions.required = True
    create = token_actions.add_parser("create", help="make a token and print it (shown once)")
    create.add_argument("--scope", required=True, choices=("ingest", "read", "admin"),
                        help="ingest: write and read one project; read: read everything; admin: everything")
    create.add_argument("--project", help="the project an ingest token writes (required for ingest)")
    create.add_argument("--name", help="what the token is for (shown in token list)")
    create.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print the token and its description as JSON")
    listing = token_actions.add_parser("list", help="every token, without secrets")
    listing.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print a JSON list")
    revoke = token_actions.add_parser("revoke", help="revoke a token (a running server stops accepting it "
                                                     "within 5 s)")
    revoke.add_argument("token_id", help="the token's id: the 12 hex digits after wp_")
    openapi = actions.add_parser("openapi", help="print the API's OpenAPI document")
    openapi.add_argument("-o", "--output", help="write it to this file instead of standard output")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from wattprint.cli.common import store_setting

    action = getattr(args, "server_action", None)
    if action == "token":
        return _token(args)
    if action == "openapi":
        return _openapi(args)
    from wattprint.server.serve import serve

    serve(store_setting(args), host=args.host, port=args.port, max_body_mb=args.max_body_mb, workers=args.workers,
          as_json=args.json, cors_origins=args.cors_origins)
    return 0


def _token(args: argparse.Namespace) -> int:
    from wattprint.cli.common import error, open_store, print_json
    from wattprint.core.errors import ConfigError
    from wattprint.server import tokens
    from wattprint.store import queries

    store = open_store(args)
    try:
        if args.token_action == "create":
            try:
                row, token = tokens.create_token(store, args.scope, args.project, args.name)
            except ValueError as failure:
                raise ConfigError(str(failure)) from None
            if args.json:
                print_json({**tokens.token_json(row), "token": token})
            else:
                where = f" for project {row.project!r}" if row.project else ""
                print(f"created {row.scope} token {row.token_id}{where}; it is shown only now:\n\n    {token}\n")
            return 0
        if args.token_action == "list":
            rows = queries.tokens(store)
            if args.json:
                print_json([tokens.token_json(row) for row in rows])
            else:
                print(_table(rows))
            return 0
        import time

        if not queries.revoke_token(store, args.token_id, time.time()):
            known = ", ".join(row.token_id for row in queries.tokens(store)) or "none"
            error(f"there is no token {args.token_id!r} in the store {store.url}; tokens: {known}")
            return 1
        print(f"revoked token {args.token_id}")
        return 0
    finally:
        store.close()


def _table(rows: list[Any]) -> str:
    if not rows:
        return "no tokens yet: the server's first start makes an admin token, or run 'wattprint server token create'"
    from wattprint.core.formatting import shorten
    from wattprint.report.summary import iso8601

    lines = [f"{'id':<12}  {'scope':<6}  {'project':<20}  {'name':<24}  {'created':<20}  state"]
    for row in rows:
        state = f"revoked {iso8601(row.revoked_at)}" if row.revoked_at else "active"
        lines.append(f"{row.token_id:<12}  {row.scope:<6}  {shorten(row.project or '-', 20):<20}  "
                     f"{shorten(row.name, 24):<24}  {iso8601(row.created_at) or '':<20}  {state}")
    return "\n".join(lines)


def _openapi(args: argparse.Namespace) -> int:
    import json

    from wattprint.cli.common import write_output
    from wattprint.server.serve import check_server_extra

    check_server_extra()
    from wattprint.server.app import openapi_document

    text = json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"
    write_output(text, args.output, what="the OpenAPI document")
    return 0
