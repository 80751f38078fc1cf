"""Exporters turned on by the ``exporters`` setting: from the tracker's arguments, the environment and
wattprint.toml, with storing off too; one that cannot be made is logged once and stops neither the run nor the
other exporters; and closing a slow sink holds up no other run's flush."""

from __future__ import annotations

import csv
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

import wattprint
from tests.fakes.wait import wait_for
from wattprint import sinks
from wattprint.core.errors import ConfigError
from wattprint.exporters.csvlog import CsvLogSink
from wattprint.exporters.prometheus import PrometheusSink
from wattprint.run import exporters
from wattprint.sinks.payload import Payload


@pytest.fixture(autouse=True)
def detached() -> Iterator[None]:
    yield
    exporters.detach_all()


def short_run(no_rapl: str, **arguments: Any) -> wattprint.Tracker:
    options: dict[str, Any] = dict(powercap_root=no_rapl, gpus=False, location="FR", flush_interval_s=0.1,
                                   interval_s=0.05, project="exp", name="train")
    options.update(arguments)
    with wattprint.Tracker(**options) as run:
        time.sleep(0.3)
    assert run.wait_saved(timeout=30)
    return run


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_exporters_from_arguments_with_storing_off(tmp_path: Path, no_rapl: str) -> None:
    log = tmp_path / "emissions.csv"
    run = short_run(no_rapl, store="off", exporters=["csv-log", "prometheus"], csv_log_path=str(log),
                    prometheus_port=0)
    result = run.result
    assert result is not None and result.emissions_g is not None
    (row,) = csv_rows(log)  # storing off, the run still reaches the exporters
    assert row["run_id"] == run.run_id
    assert float(row["wattprint_energy_j"]) == pytest.approx(result.energy_j, rel=1e-9)
    (prometheus,) = [sink for sink in exporters.attached_exporters() if isinstance(sink, PrometheusSink)]
    assert prometheus.server is not None and prometheus.server.host == "127.0.0.1"
    samples = scrape(prometheus.server.url)
    energy = sum(value for (name, _), value in samples.items() if name == "wattprint_energy_joules_total")
    assert energy == pytest.approx(result.energy_j, rel=1e-9)
    assert samples[("wattprint_emissions_grams_total", ())] == pytest.approx(result.emissions_g, rel=1e-9)


def test_the_same_exporters_are_made_once_per_process(tmp_path: Path, no_rapl: str) -> None:
    log = tmp_path / "emissions.csv"
    first = short_run(no_rapl, store="off", exporters=["csv-log"], csv_log_path=str(log))
    second = short_run(no_rapl, store="off", exporters=["csv-log"], csv_log_path=str(log))
    assert len(exporters.attached_exporters()) == 1
    assert [row["run_id"] for row in csv_rows(log)] == [first.run_id, second.run_id]
    other = tmp_path / "other.csv"
    third = short_run(no_rapl, store="off", exporters=["csv-log"], csv_log_path=str(other))
    assert len(exporters.attached_exporters()) == 2  # other options, another exporter
    assert [row["run_id"] for row in csv_rows(other)] == [third.run_id]
    assert len(csv_rows(log)) == 3  # attached exporters get every run of the process


def test_exporters_from_the_environment_and_the_project_file(tmp_path: Path, no_rapl: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATTPRINT_EXPORTERS", "CSV-log")
    monkeypatch.setenv("WATTPRINT_CSV_LOG_PATH", str(tmp_path / "from-env.csv"))
    run = short_run(no_rapl)
    assert [row["run_id"] for row in csv_rows(tmp_path / "from-env.csv")] == [run.run_id]
    exporters.detach_all()
    monkeypatch.delenv("WATTPRINT_EXPORTERS")
    monkeypatch.delenv("WATTPRINT_CSV_LOG_PATH")
    project = tmp_path / "project"
    project.mkdir()
    (project / "wattprint.toml").write_text('exporters = ["csv-log"]\ncsv_log_path = "logs/runs.csv"\n')
    (project / "logs").mkdir()
    monkeypatch.chdir(project)
    run = short_run(no_rapl)
    assert run.settings.csv_log_path == str(project / "logs" / "runs.csv")  # relative to the file
    assert [row["run_id"] for row in csv_rows(project / "logs" / "runs.csv")] == [run.run_id]


def test_an_unknown_exporter_is_a_config_error_naming_the_choices(no_rapl: str) -> None:
    with pytest.raises(ConfigError, match=r"exporters = \['prom'\] from argument: must be .*'prometheus'.*'wandb'"):
        wattprint.Tracker(powercap_root=no_rapl, exporters=["prom"])


def test_an_exporter_that_cannot_be_made_is_logged_once_and_stops_nothing(
        tmp_path: Path, no_rapl: str, caplog: pytest.LogCaptureFixture) -> None:
    log = tmp_path / "emissions.csv"
    store = tmp_path / "runs.sqlite"
    for _ in range(2):
        run = short_run(no_rapl, store=str(store), exporters=["prometheus-pushgateway", "prometheus-textfile",
                                                              "csv-log"], csv_log_path=str(log))
    messages = [r.getMessage() for r in caplog.records if "exporter is off" in r.getMessage()]
    assert len(messages) == 2, messages  # each once, though two runs asked for them
    assert any("pushgateway_url (WATTPRINT_PUSHGATEWAY_URL)" in m for m in messages)
    assert any("prometheus_textfile (WATTPRINT_PROMETHEUS_TEXTFILE)" in m for m in messages)
    assert len(csv_rows(log)) == 2  # the exporter that could be made got both runs
    from wattprint.store import open_store

    with open_store(f"sqlite:///{store}") as opened:
        assert opened.run(run.run_id).status == "finished"  # and the store its run


def test_a_port_taken_is_logged_naming_the_setting(tmp_path: Path, no_rapl: str,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = short_run(no_rapl, store="off", exporters=["prometheus", "csv-log"], prometheus_port=port,
                        csv_log_path=str(tmp_path / "e.csv"))
    assert any(f"127.0.0.1:{port}" in r.getMessage() and "prometheus_port" in r.getMessage()
               for r in caplog.records)
    assert [row["run_id"] for row in csv_rows(tmp_path / "e.csv")] == [run.run_id]


class SlowSink:
    """A real sink whose closing takes as long as the test says: it waits for ``release`` before returning."""

    name = "slow-test"

    def __init__(self) -> None:
        self.release = threading.Event()
        self.closing = threading.Event()
        self.written: list[str] = []

    def open(self) -> None:
        pass

    def write(self, payload: Payload) -> None:
        self.written.append(payload.run.run_id)

    def close(self) -> None:
        self.closing.set()
        self.release.wait(60)


def test_a_sink_slow_to_close_holds_up_no_other_flush(tmp_path: Path, no_rapl: str) -> None:
    slow = sinks.attach(SlowSink())
    other = sinks.attach(CsvLogSink(tmp_path / "e.csv"))
    options: dict[str, Any] = dict(powercap_root=no_rapl, gpus=False, store="off", flush_interval_s=0.1,
                                   interval_s=0.05, location="FR")
    try:
        with wattprint.Tracker(**options) as first:
            wait_for(lambda: first.run_id in slow.written, "the slow sink's first write")
            closer = threading.Thread(target=sinks.detach, args=(slow,))
            closer.start()
            assert slow.closing.wait(30)
            # the slow sink is closing (and will until released): another run is still written and saved
            with wattprint.Tracker(**options) as second:
                time.sleep(0.2)
            assert second.wait_saved(timeout=30)
            assert [row["run_id"] for row in csv_rows(tmp_path / "e.csv")] == [second.run_id]
            assert closer.is_alive()  # still closing all along
            assert second.run_id not in slow.written  # detached: it got nothing more
        assert first.wait_saved(timeout=30)
    finally:
        slow.release.set()
        sinks.detach(other)
    closer.join(30)
    assert not closer.is_alive()


def test_wattprint_run_exporter_option(tmp_path: Path, env: dict[str, str]) -> None:
    import json
    import subprocess
    import sys

    wattprint_cli = str(Path(sys.executable).with_name("wattprint"))
    log = tmp_path / "runs.csv"
    done = subprocess.run(
        [wattprint_cli, "run", "--json", "--store", "off", "--exporter", "csv-log", "--", sys.executable, "-c",
         "pass"], env={**env, "WATTPRINT_CSV_LOG_PATH": str(log)}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    run = json.loads(done.stdout)
    assert [row["run_id"] for row in csv_rows(log)] == [run["run_id"]]  # the command's run only, not the probe
    wrong = subprocess.run([wattprint_cli, "run", "--exporter", "prom", "--", sys.executable, "-c", "pass"],
                           env=env, capture_output=True, text=True, timeout=120)
    assert wrong.returncode == 2 and "--exporter: invalid choice: 'prom'" in wrong.stderr
