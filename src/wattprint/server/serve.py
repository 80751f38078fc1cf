"""Running the server: open the store, create the key and first admin token on the first start, serve."""

from __future__ import annotations

import sys
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


def serve(store_url: str | None, *, host: str = "127.0.0.1", port: int = 8000, max_body_mb: float = 32.0,
          as_json: bool = False, out: TextIO | None = None) -> None:
    """Serve the store at ``store_url`` (default: the per-user store) on ``host``:``port`` until interrupted; a
    first start prints its admin token on ``out`` (standard output), as one JSON line with ``as_json``."""
    check_server_extra()
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port {port} is not a TCP port: give 1-65535 (or 0 for any free port)")
    if not max_body_mb > 0:
        raise ConfigError(f"the largest request body (--max-body-mb) must be more than 0 MiB, got {max_body_mb:g}")
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
        app = create_app(store, host=host, max_body_mb=max_body_mb)
        config = uvicorn.Config(app, host=host, port=port, log_level="info", access_log=False,
                                server_header=False, proxy_headers=True)
        uvicorn.Server(config).run()
    finally:
        store.close()
