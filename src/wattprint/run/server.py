"""Sending a tracker's runs to the team server of its ``server`` setting: one server sink per server, token and
local store, attached to the process's writer the first time a tracker needs it (``wattprint.sinks.server``)."""

from __future__ import annotations

import os
import threading

from wattprint._log import warn_once

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.run.recording import Recording
    from wattprint.sinks.server import ServerSink

_sinks: dict[tuple[str, object, str | None], ServerSink] = {}
_lock = threading.Lock()


def send_to_server(tracker: Recording, store_url: str | None) -> None:
    """Have the run the tracker is starting sent to its ``server`` too (nothing when none is set); the local store
    ``store_url`` is the outbox. Never raises: a problem is logged once and the run is still stored."""
    settings = tracker.settings
    if settings.server is None or tracker.run_id is None:
        return
    try:
        sink = _sink(settings.server, settings.server_token, store_url)
        sink.follow(tracker.run_id)
    except Exception as error:  # noqa: BLE001 - the run is stored locally whatever happens here
        warn_once(f"server-attach:{settings.server}",
                  f"wattprint: runs cannot be sent to the team server {settings.server} ({error}); they are stored "
                  "locally, and 'wattprint push' sends them")
    if store_url is None:
        warn_once("server-no-store", "wattprint: storing is off (store = off), so a run the team server cannot "
                                     "take now is not kept to be sent later")


def _sink(server: str, token: object, store_url: str | None) -> ServerSink:
    from wattprint.client.http import server_url
    from wattprint.sinks import attach
    from wattprint.sinks.server import ServerSink

    key = (server_url(server), token, store_url)
    with _lock:
        sink = _sinks.get(key)
        if sink is None:
            sink = _sinks[key] = ServerSink(server, token, store=store_url)
            attach(sink)
        return sink


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.Lock()  # the sinks stay attached: the child's writer opens them anew


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def detach_all() -> None:
    """Stop sending runs to every server this process was sending to (closing their connections)."""
    from wattprint.sinks import detach

    with _lock:
        attached = list(_sinks.values())
        _sinks.clear()
    for sink in attached:
        detach(sink)
