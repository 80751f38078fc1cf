"""Alembic environment of the wattprint store.

wattprint runs the migrations itself (``wattprint.store.runstore.migrate``), passing an open connection in
``config.attributes["connection"]``. For developers, ``alembic -x url=<store URL> ...`` (or ``WATTPRINT_STORE``)
with ``script_location`` pointing here works too.
"""

from __future__ import annotations

import os

from alembic import context

from wattprint.store.schema import metadata

config = context.config
connection = config.attributes.get("connection")


def _run(conn: object) -> None:
    context.configure(
        connection=conn,  # type: ignore[arg-type]
        target_metadata=metadata,
        render_as_batch=getattr(getattr(conn, "dialect", None), "name", "") == "sqlite",
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    from wattprint.store.urls import resolve_store_url

    given = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get("WATTPRINT_STORE")
    resolved = resolve_store_url(given)
    if resolved is None:
        raise SystemExit("storing is turned off (WATTPRINT_STORE=off); give -x url=<store URL>")
    return resolved


if connection is not None:
    _run(connection)
elif context.is_offline_mode():
    context.configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()
else:
    from sqlalchemy import create_engine

    engine = create_engine(_url())
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()
