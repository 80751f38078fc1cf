"""The team server's client: its HTTP API v1 (send a run, list and read runs), ``push`` of a local store's
unsent runs, and a server read like a store (docs/team.md). Importing this package imports neither httpx nor the
store; httpx is imported with the first request."""

from __future__ import annotations

from wattprint._lazy import lazy_exports

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.client.http import Ack, ServerClient, ServerError, ServerRefused, ServerUnavailable, server_url
    from wattprint.client.push import PushResult, push
    from wattprint.client.remote import RemoteRuns, open_remote

__all__ = ["Ack", "PushResult", "RemoteRuns", "ServerClient", "ServerError", "ServerRefused", "ServerUnavailable",
           "open_remote", "push", "server_url"]

_LAZY = {
    **{name: "wattprint.client.http" for name in ("Ack", "ServerClient", "ServerError", "ServerRefused",
                                                  "ServerUnavailable", "server_url")},
    "PushResult": "wattprint.client.push",
    "push": "wattprint.client.push",
    "RemoteRuns": "wattprint.client.remote",
    "open_remote": "wattprint.client.remote",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
