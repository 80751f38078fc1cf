"""Entry points are read one way for every registry: unreadable metadata is logged once and adds nothing."""

from __future__ import annotations

import importlib.metadata
import logging
from typing import Any

import pytest

from wattprint.core.plugins import entry_points_of


def test_unreadable_metadata_is_logged_once_and_reads_as_none(monkeypatch: pytest.MonkeyPatch,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    def broken(**kwargs: Any) -> Any:
        raise ValueError("bad METADATA")

    monkeypatch.setattr(importlib.metadata, "entry_points", broken)
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        assert entry_points_of("wattprint.test_unreadable") == ()
        assert entry_points_of("wattprint.test_unreadable") == ()
    assert [r.getMessage() for r in caplog.records] == [
        "wattprint: could not read the wattprint.test_unreadable entry points: bad METADATA"]

