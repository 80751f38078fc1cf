"""Exporters by name: each built-in one is found, imported only when asked for, and registered as a sink."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from wattprint import exporters, sinks
from wattprint.core.errors import ConfigError

CHILD = """
import sys
import wattprint.exporters as exporters
heavy = ("prometheus_client", "opentelemetry", "mlflow")
assert not [m for m in heavy if m in sys.modules], "importing the package imported an exporter's library"
sink = exporters.attach("csv-log", path=sys.argv[1])
assert type(sink).__name__ == "CsvLogSink" and "prometheus_client" not in sys.modules
from wattprint import sinks
assert sinks.sink_class("csv-log") is type(sink)
import wattprint
with wattprint.track(store=sys.argv[2], gpus=False, powercap_root=sys.argv[3]) as run:
    pass
print(run.run_id)
"""


def test_every_builtin_exporter_is_a_registered_sink_of_its_name() -> None:
    for name in exporters.exporter_names():
        cls = exporters.exporter_class(name)
        assert cls.name == name and sinks.sink_class(name) is cls


def test_an_unknown_exporter_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="exporter 'prometeus' is not known; known exporters: prometheus, "):
        exporters.exporter_class("prometeus")


def test_attaching_by_name_imports_only_that_exporter(tmp_path: Path, no_rapl: str) -> None:
    log = tmp_path / "emissions.csv"
    done = subprocess.run([sys.executable, "-c", CHILD, str(log), str(tmp_path / "runs.sqlite"), no_rapl],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() in log.read_text()  # the sink was written at the run's end
