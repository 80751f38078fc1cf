"""Where runs are stored: the default SQLite file, and the URL forms ``WATTPRINT_STORE`` / ``store=`` accept.

Stdlib only (platformdirs is imported when the default is asked for), so a tracker can check its ``store=``
argument at construction without importing SQLAlchemy.
"""

from __future__ import annotations

import os
import re

from wattprint.store.errors import StoreError

OFF = ("off", "none", "false")
"""Values that turn storing off."""

FORMS = (
    "a file path (/path/runs.sqlite), sqlite:///relative.sqlite, sqlite:////absolute/runs.sqlite, "
    "postgresql://user:password@host:5432/dbname (or postgresql+psycopg://...), or 'off' to store nothing"
)

_PASSWORD = re.compile(r"(://[^:/@\s]*:)([^@/\s]*)(@)")


def data_dir() -> str:
    """The per-user data directory of wattprint (``~/.local/share/wattprint`` on Linux, ``$XDG_DATA_HOME`` aware)."""
    import platformdirs

    return str(platformdirs.user_data_dir("wattprint", appauthor=False))


def default_store_url() -> str:
    """``sqlite:///<user data dir>/runs.sqlite``; the directory is created when the store is first opened."""
    return "sqlite:///" + os.path.join(os.path.abspath(data_dir()), "runs.sqlite")


def mask_password(url: str) -> str:
    """``url`` with any password replaced by ``***``, for messages and display."""
    return _PASSWORD.sub(r"\1***\3", url)


def resolve_store_url(value: str | None) -> str | None:
    """The store URL a setting means: None/'' is the default file, 'off'/'none'/'false' turn storing off (None).

    A plain filesystem path becomes ``sqlite:///<absolute path>``; ``sqlite:///...``, ``postgresql://...`` and
    ``postgresql+psycopg://...`` are kept (``postgresql://`` is mapped to the psycopg 3 driver). Anything else
    raises StoreError naming the value and the forms allowed.
    """
    if value is None:
        return default_store_url()
    if not isinstance(value, str):
        raise StoreError(f"store={value!r} is not valid: give a string, one of {FORMS}")
    text = value.strip()
    if not text:
        return default_store_url()
    if text.lower() in OFF:
        return None
    if "://" not in text:
        if text.startswith(("sqlite:", "postgresql:", "postgres:")):
            raise StoreError(f"store URL {mask_password(text)!r} is not valid (missing '//'); use {FORMS}")
        return "sqlite:///" + os.path.abspath(os.path.expanduser(text))
    scheme, _, rest = text.partition("://")
    scheme_lower = scheme.lower()
    if scheme_lower in ("sqlite", "sqlite+pysqlite"):
        if not rest.startswith("/") or rest == "/":
            raise StoreError(
                f"store URL {text!r} has no database file; use sqlite:///relative.sqlite or "
                "sqlite:////absolute/path/runs.sqlite"
            )
        return "sqlite:///" + rest[1:]
    if scheme_lower in ("postgresql", "postgresql+psycopg"):
        if not rest or rest.startswith("?"):
            raise StoreError(f"store URL {mask_password(text)!r} names no host or database; use {FORMS}")
        return "postgresql+psycopg://" + rest
    raise StoreError(f"store URL {mask_password(text)!r} is not supported; use {FORMS}")
