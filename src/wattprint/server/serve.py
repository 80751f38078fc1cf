"""Running the server: open the store, create the key and first admin token on the first start, serve."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from wattprint.core.errors import ConfigError

FIRST_TOKEN_NOTE = (
    "wattprint server: first start: created the server key and an admin token. It is shown only now and never\n"
    "again; keep it somewhere safe (it makes and revokes tokens: 'wattprint server token --help'):\n"
)


def check_server_extra() -> None:
    """ConfigError with the install line when FastAPI or uvicorn is missing."""
    import importlib.util

    missing = [name for name in ("fastapi", "uvicorn") if importlib.util.find_spec(name) is None]
    if missing:
        raise ConfigError(f"the team server needs {' and '.join(missing)}, which {'is' if len(missing) == 1 else 'are'}"
                          " not installed: pip install 'wattprint[server]'")


WORKER_ENV = "WATTPRINT_SERVER_WORKER"
"""How the server hands its store and limits to its worker processes (JSON)."""


def serve(store_url: str | None, *, host: str = "127.0.0.1", port: int = 8000, max_body_mb: float = 32.0,
          workers: int = 1, as_json: bool = False, out: TextIO | None = None,
          cors_origins: Sequence[str] = ()) -> None:
    """Serve the store at ``store_url`` (default: the per-user store) on ``host``:``port`` until interrupted, in
    ``workers`` processes; a first start prints its admin token on ``out`` (standard output), as one JSON line with
    ``as_json``."""
    check_server_extra()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"--workers must be a whole number of at least 1, got {workers!r}")
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port {port} is not a TCP port: give 1-65535 (or 0 for any free port)")
    if not max_body_mb > 0:
        raise ConfigError(f"the largest request body (--max-body-mb) must be more than 0 MiB, got {max_body_mb:g}")
    from wattprint.server.app import check_cors_origins

    cors_origins = check_cors_origins(cors_origins)
    from wattprint.settings import hints

    # The API's callers name the library's keywords (JSON keys), not the command line's options: hints are worded
    # for the Python API while serving, even when 'wattprint server' started the server.
    with hints.python_api():
        _serve(store_url, host=host, port=port, max_body_mb=max_body_mb, workers=workers, as_json=as_json, out=out,
               cors_origins=cors_origins)


def _serve(store_url: str | None, *, host: str, port: int, max_body_mb: float, workers: int, as_json: bool,
           out: TextIO | None, cors_origins: Sequence[str] = ()) -> None:
    import uvicorn

    from wattprint.server.app import create_app
    from wattprint.server.tokens import bootstrap
    from wattprint.store import open_store

    store = open_store(store_url)
    try:
        token = bootstrap(store)
        if token is not None:
            stream = out or sys.stdout
            if as_json:
                import json

                stream.write(json.dumps({"admin_token": token, "token_id": token.split("_")[1]}) + "\n")
            else:
                stream.write(f"{FIRST_TOKEN_NOTE}\n    {token}\n\n")
            stream.flush()
        if workers == 1:
            app = create_app(store, host=host, max_body_mb=max_body_mb, cors_origins=cors_origins)
            uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="info", access_log=False,
                                          server_header=False, proxy_headers=True)).run()
            return
    finally:
        store.close()
    import json
    import os

    from wattprint.store import resolve_store_url

    os.environ[WORKER_ENV] = json.dumps({"store": resolve_store_url(store_url), "host": host,
                                         "max_body_mb": max_body_mb, "cors_origins": list(cors_origins)})
    uvicorn.run("wattprint.server.serve:worker_app", factory=True, workers=workers, host=host, port=port,
                log_level="info", access_log=False, server_header=False, proxy_headers=True)


def worker_app() -> object:
    """The application of one worker process (``serve(workers=N)``): its own store connections, token cache."""
    import json
    import os

    from wattprint.server.app import create_app
    from wattprint.store import open_store

    given = json.loads(os.environ[WORKER_ENV])
    return create_app(open_store(given["store"]), host=given["host"], max_body_mb=given["max_body_mb"],
                      cors_origins=given.get("cors_origins", ()))
