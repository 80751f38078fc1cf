"""Helpers shared by the command modules."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def store_setting(args: argparse.Namespace) -> str | None:
    """The store named by --store, else by the configuration (WATTPRINT_STORE, files), else the default."""
    from wattprint.config import load_config

    return load_config({"store": getattr(args, "store", None)}).get("store")  # type: ignore[return-value]


def open_store(args: argparse.Namespace):  # noqa: ANN201 - a RunStore
    from wattprint.store import StoreError, open_store, resolve_store_url

    url = resolve_store_url(store_setting(args))
    if url is None:
        raise StoreError("storing runs is turned off (store = off): there are no runs to read")
    return open_store(url)


def write_output(text: str, path: str | None) -> None:
    """``text`` into the file ``-o`` names, else to standard output."""
    if path:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)


def error(message: str) -> None:
    print(f"wattprint: error: {message}", file=sys.stderr)
