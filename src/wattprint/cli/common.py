"""Helpers shared by the command modules."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def print_run_summary(result: Any, tracker: Any, *, saved: bool, as_json: bool) -> None:
    """A finished run's summary (``wattprint run`` and ``monitor``): JSON on stdout, else text on stderr, with a note
    when the store has not finished saving it yet."""
    from wattprint.report.summary import run_json, run_text
    from wattprint.sinks.payload import component_records, run_record, task_record

    record = run_record(result, updated_at=result.started_at + result.duration_s,
                        ended_at=result.started_at + result.duration_s, tracker=tracker)
    tasks = [task_record(i, t) for i, t in enumerate(result.tasks)]
    if as_json:
        print_json(run_json(record, component_records(result), tasks))
    else:
        from wattprint.report.console import STILL_SAVING

        print(run_text(record, component_records(result), tasks), file=sys.stderr)
        if not saved:
            print(STILL_SAVING, file=sys.stderr)


def given(args: argparse.Namespace, options: dict[str, str]) -> dict[str, Any]:
    """The settings the command line gives (``options``: an option's dest -> its setting): the options that were not
    given are left out, so that the environment, the project file and the user config decide them."""
    return {key: getattr(args, dest) for dest, key in options.items() if getattr(args, dest, None) is not None}


def store_setting(args: argparse.Namespace) -> str | None:
    """The store named by --store, else by the configuration (WATTPRINT_STORE, files), else the default."""
    from wattprint.settings.config import load_config

    store = load_config({"store": getattr(args, "store", None)}).get("store")
    return None if store is None else str(store)


def open_store(args: argparse.Namespace):  # noqa: ANN201 - a RunStore
    from wattprint.store import StoreError, open_store, resolve_store_url

    url = resolve_store_url(store_setting(args))
    if url is None:
        raise StoreError("storing runs is turned off (store = off): there are no runs to read")
    from wattprint.store.spool import replay_pending

    store = open_store(url)
    replay_pending(url, store)  # runs spooled while the store was unreachable show up now (quiet, bounded)
    return store


def write_output(text: str, path: str | None, *, what: str = "") -> None:
    """``text`` into the file ``-o`` names (saying on stderr what was written: ``what``, where, how big), else to
    standard output."""
    if path:
        from wattprint.report.console import wrote_text

        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        print(wrote_text(path, what, len(text.encode("utf-8"))), file=sys.stderr)
    else:
        sys.stdout.write(text)


def error(message: str) -> None:
    """A failure's message (exit status 1): ``wattprint: error: ...``, saying what to change."""
    print(f"wattprint: error: {message}", file=sys.stderr)


def warn(message: str) -> None:
    print(f"wattprint: warning: {message}", file=sys.stderr)


class LazyChoices:
    """argparse choices read from ``source`` (``"module:function"``, the function returning the names) only when
    argparse checks a value or prints help, so that building the parser imports no registry. The option needs a
    ``metavar``: without one argparse lists the choices while the parser is built."""

    def __init__(self, source: str) -> None:
        self._source = source

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __iter__(self) -> Any:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def _names(self) -> tuple[str, ...]:
        import importlib

        module, _, function = self._source.partition(":")
        names: tuple[str, ...] = getattr(importlib.import_module(module), function)()
        return names


PROVIDER_CHOICES = LazyChoices("wattprint.carbon.providers:provider_names")
"""The live provider names for ``--intensity-provider``."""


class DeprecatedAlias(argparse.Action):
    """An old name of an option, kept working: it sets the new option's value and says on stderr to use ``new``."""

    def __init__(self, option_strings: list[str], dest: str, *, new: str, why: str = "", **kwargs: Any) -> None:
        super().__init__(option_strings, dest, **kwargs)
        self.new, self.why = new, why

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        warn(f"{option_string} is deprecated in '{parser.prog}': use {self.new}{self.why}")
        setattr(namespace, self.dest, values)


def add_intensity_provider(group: Any, *, help: str) -> None:  # noqa: A002 - argparse's own keyword
    """``--intensity-provider`` (the ``intensity_provider`` setting), and ``--provider``, its deprecated old name:
    ``--provider`` names cloud providers in ``compare-regions``."""
    group.add_argument("--intensity-provider", choices=PROVIDER_CHOICES, metavar="PROVIDER", help=help)
    group.add_argument("--provider", dest="intensity_provider", choices=PROVIDER_CHOICES, metavar="PROVIDER",
                       action=DeprecatedAlias, new="--intensity-provider",
                       why=" (--provider names cloud providers, in compare-regions)", help=argparse.SUPPRESS)

