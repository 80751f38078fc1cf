"""The real team server for tests: ``wattprint server`` started in a child process on 127.0.0.1 over a given store.

>>> with start_server("sqlite:///" + str(tmp_path / "team.sqlite"), tmp_path) as server:
...     httpx.get(server.url + "/api/v1/runs", headers=server.auth()).json()

``TeamServer`` waits for ``/api/v1/health``, reads the admin token the first start prints, and can be stopped
and started again on the same port and store (``restart``), as a server restarted during ingest would be. Its
standard output and error go to ``log_path`` (shown when it fails to start). Fixtures: ``team_server`` (a fresh
SQLite store) and ``team_server_pg`` (a fresh database of the throwaway PostgreSQL cluster).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.fakes.pg import free_port
from tests.fakes.wait import wait_for

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.store.runstore import RunStore

_TOKEN = re.compile(r"\bwp_[0-9a-f]{12}_[A-Za-z0-9_-]{32,}")
START_TIMEOUT_S = 60.0


def _server_command() -> list[str]:
    """The real ``wattprint server`` command, run by this interpreter."""
    return [sys.executable, "-m", "wattprint", "server"]


class TeamServer:
    """One ``wattprint server`` process: its base URL, the store it serves, and its first admin token."""

    def __init__(self, store_url: str, workdir: Path, *, host: str = "127.0.0.1", port: int | None = None,
                 args: Sequence[str] = (), env: dict[str, str] | None = None) -> None:
        self.store_url = store_url
        self.host = host
        self.port = port or free_port()
        self.args = list(args)
        self.env = env
        self.log_path = Path(workdir) / f"server-{self.port}.log"
        self.admin_token: str | None = None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The base URL (the server is reached on 127.0.0.1 whatever address it binds)."""
        return f"http://127.0.0.1:{self.port}"

    def auth(self, token: str | None = None) -> dict[str, str]:
        """Headers carrying ``token`` (default: the admin token)."""
        token = token or self.admin_token
        return {"Authorization": f"Bearer {token}"} if token else {}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self) -> TeamServer:
        """Start the process and wait until it answers; the admin token is read from a first start's output."""
        import httpx

        assert self.process is None, "the server is already running"
        command = [*_server_command(), "--store", self.store_url, "--host", self.host, "--port", str(self.port),
                   *self.args]
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            env=self.env if self.env is not None else dict(os.environ))
        process = self.process

        def healthy() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"wattprint server exited with {process.returncode}:\n{self.log()[-3000:]}")
            try:
                return httpx.get(self.url + "/api/v1/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        try:
            wait_for(healthy, f"wattprint server on port {self.port} to answer", timeout=START_TIMEOUT_S)
        except AssertionError:
            self.stop()
            raise
        printed = _TOKEN.search(self.log()[offset:])
        if printed:
            self.admin_token = printed.group(0)
        return self

    def stop(self, *, kill: bool = False) -> None:
        """End the process: SIGTERM (a graceful shutdown), or SIGKILL with ``kill``; waits for it to exit."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def restart(self, *, kill: bool = False) -> TeamServer:
        """Stop and start again on the same port and store."""
        self.stop(kill=kill)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the port is free again once the old process has gone
            try:
                return self.start()
            except AssertionError:
                if "address already in use" not in self.log().lower():
                    raise
                time.sleep(0.2)
        return self.start()


@contextmanager
def start_server(store_url: str, workdir: Path, *, host: str = "127.0.0.1", port: int | None = None,
                 args: Sequence[str] = (), env: dict[str, str] | None = None) -> Iterator[TeamServer]:
    """A running ``wattprint server`` over ``store_url`` for the ``with`` block (options: ``TeamServer``'s)."""
    server = TeamServer(store_url, workdir, host=host, port=port, args=args, env=env)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def sqlite_url(path: Path) -> str:
    return "sqlite:///" + str(path)


@pytest.fixture
def team_server(tmp_path: Path) -> Iterator[TeamServer]:
    """A real server on 127.0.0.1 over a new SQLite store of this test."""
    with start_server(sqlite_url(tmp_path / "team.sqlite"), tmp_path) as server:
        yield server


@pytest.fixture
def team_server_pg(pg_url: str, tmp_path: Path) -> Iterator[TeamServer]:
    """A real server on 127.0.0.1 over a new database of the throwaway PostgreSQL cluster."""
    with start_server(pg_url, tmp_path) as server:
        yield server


@contextmanager
def serve_app(app: object) -> Iterator[str]:
    """Serve an application (``wattprint.server.create_app(...)``) with uvicorn in a thread on 127.0.0.1; yields its
    base URL. For a server whose bind address must read as another (``create_app(store, host="192.0.2.10")``)."""
    import threading

    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, "the in-thread server to start", timeout=START_TIMEOUT_S)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def server_cli(*args: str, store_url: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``wattprint --store URL server ARGS`` in a child process (token create, list, revoke; openapi)."""
    command = _server_command()
    return subprocess.run([*command, "--store", store_url, *args], capture_output=True, text=True, timeout=120,
                          env=env if env is not None else dict(os.environ))


def caller_tokens(store: RunStore) -> dict[str, str]:
    """A token of every kind of caller, made on ``store``: admin, read, ingest for projects alpha and beta, a
    revoked and a forged one."""
    from wattprint.server.tokens import bootstrap, create_token
    from wattprint.store import queries

    tokens = {"admin": bootstrap(store) or ""}
    tokens["read"] = create_token(store, "read")[1]
    tokens["alpha"] = create_token(store, "ingest", "alpha")[1]
    tokens["beta"] = create_token(store, "ingest", "beta")[1]
    revoked_row, tokens["revoked"] = create_token(store, "ingest", "alpha")
    queries.revoke_token(store, revoked_row.token_id, 1.0)
    tokens["forged"] = tokens["alpha"][:-4] + "AAAA"
    return tokens
