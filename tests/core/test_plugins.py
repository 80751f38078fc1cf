"""Entry points are read one way for every registry: unreadable metadata is logged once and adds nothing, and a
group no installed package declares costs a directory scan, not a parse of every package's metadata."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from wattprint.core.plugins import declared, entry_points_of


def _distribution(root: Path, name: str, entry_points: str) -> None:
    info = root / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(entry_points)


def test_unreadable_metadata_is_logged_once_and_reads_as_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    _distribution(tmp_path, "broken", "[wattprint.test_unreadable]\na line without an equals sign\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        assert entry_points_of("wattprint.test_unreadable") == ()
        assert entry_points_of("wattprint.test_unreadable") == ()
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1, messages
    assert messages[0].startswith("wattprint: could not read the wattprint.test_unreadable entry points: ")


def test_a_declared_group_is_read_and_an_undeclared_one_is_not(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _distribution(tmp_path, "plugin", "[wattprint.test_declared]\nthing = json:dumps\n")
    assert not declared("wattprint.test_declared")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert declared("wattprint.test_declared")
    assert not declared("wattprint.test_nobody_declares_this")
    points = entry_points_of("wattprint.test_declared")
    assert [(p.name, p.load()) for p in points] == [("thing", __import__("json").dumps)]
    assert str(tmp_path) in sys.path
