"""A real HTTP server on 127.0.0.1 that replays live intensity providers' answers, and providers pointed at it.

Shared by the provider, live accounting and scheduling tests.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from wattprint.carbon.providers import HttpClient, RetryPolicy, make_provider
from wattprint.carbon.providers.base import parse_time
from wattprint.settings.config import Secret

TOKEN = "em-secret-token-7f3a"
PASSWORD = "wt-secret-password-91c2"


# -- the server --------------------------------------------------------------------------------------------------


@dataclass
class Reply:
    """One scripted answer: a status, a body (JSON-encoded unless bytes or str), headers, and a delay.

    ``gate`` holds the answer back until it is true (an Event that is set, or a function that returns True; at
    most 60 s): an answer that lands exactly when a test wants it, whatever the load of the machine."""

    body: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    gate: threading.Event | Callable[[], bool] | None = None

    def wait_for_gate(self) -> None:
        if self.gate is None:
            return
        if isinstance(self.gate, threading.Event):
            self.gate.wait(60.0)
            return
        deadline = time.monotonic() + 60.0
        while not self.gate() and time.monotonic() < deadline:
            time.sleep(0.02)


@dataclass
class Seen:
    path: str
    query: dict[str, str]
    headers: dict[str, str]


Route = Callable[[Seen], Reply]


class ReplayServer:
    """A real HTTP server on 127.0.0.1: each path answers with its scripted replies in turn (the last repeats),
    or with a function of the request; a path ending in ``*`` answers every path it begins. Every request is
    recorded."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply] | Route] = {}
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                parts = urlsplit(self.path)
                seen = Seen(parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()},
                            {k.lower(): v for k, v in self.headers.items()})
                reply = server._answer(seen)
                reply.wait_for_gate()  # outside the server's lock: other requests are answered meanwhile
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                body = reply.body
                if not isinstance(body, (bytes, str)):
                    body = json.dumps(body)
                data = body.encode() if isinstance(body, str) else body
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.headers.get("Content-Type", "application/json"))
                    for name, value in reply.headers.items():
                        if name != "Content-Type":
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (a timeout test)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), name="replay-server",
                                        daemon=True)

    def route(self, path: str, *replies: Reply | Route) -> None:
        if len(replies) == 1 and callable(replies[0]):
            self.routes[path] = replies[0]  # type: ignore[assignment]
        else:
            self.routes[path] = list(replies)  # type: ignore[arg-type]

    def _answer(self, seen: Seen) -> Reply:
        with self._lock:
            self.seen.append(seen)
            route = self.routes.get(seen.path)
            if route is None:  # "/intensity/*" answers every path under /intensity/
                route = next((r for key, r in self.routes.items()
                              if key.endswith("*") and seen.path.startswith(key[:-1])), None)
            if route is None:
                return Reply({"error": f"no route for {seen.path}"}, status=404)
            if callable(route):
                return route(seen)
            return route.pop(0) if len(route) > 1 else route[0]

    def requests(self, path: str | None = None) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if path is None or s.path == path]

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as running:
        yield running


@pytest.fixture(autouse=True)
def private_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The per-user cache directory of these tests is their own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


class Sleeps:
    """An injected sleep that records what it was asked and waits for nothing."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def at(text: str) -> Callable[[], float]:
    moment = parse_time(text)
    return lambda: moment


def provider(name: str, server: ReplayServer, *, clock: Callable[[], float] = time.time, timeout_s: float = 2.0,
             sleep: Callable[[float], None] | None = None, attempts: int = 3, **options: Any) -> Any:
    http = HttpClient(name, timeout_s=timeout_s, retry=RetryPolicy(attempts=attempts, base_s=0.5),
                      sleep=sleep or Sleeps(), clock=clock, rng=lambda: 1.0)
    credentials: dict[str, Any] = {}
    if name == "electricitymaps":
        credentials["token"] = Secret(TOKEN)
    if name == "watttime":
        credentials.update(username="ada", password=Secret(PASSWORD))
    return make_provider(name, url=server.url, http=http, clock=clock, **credentials, **options)
