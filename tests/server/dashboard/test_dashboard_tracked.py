"""A real tracked run, measured with RAPL counters (a sysfs tree the test drives, the only stand-in: this VM has
no RAPL) and sent to the real server by the background writer's server sink, shown on its run page: the page's
figures are the run's own, the power chart holds its interval records, its epochs are the tasks chart."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

import wattprint
from tests.fakes.dashboard import Browser, chart_data, shot
from tests.fakes.server import TeamServer
from tests.fakes.sysfs import CounterDriver, write_zone
from wattprint.sinks import recorder

pytestmark = pytest.mark.slow


def test_a_tracked_run_on_its_page(tmp_path: Path, team_server: TeamServer, browser: Browser) -> None:
    root = tmp_path / "powercap"
    zone = write_zone(root / "intel-rapl", "intel-rapl:0", "package-0", power_limit_uw=65_000_000)
    with CounterDriver({zone: 20.0}, max_range_uj=262_143_328_850):
        with wattprint.Tracker(store=str(tmp_path / "local.sqlite"), server=team_server.url, project="tracked",
                               name="tiny loop", gpus=False, powercap_root=str(root), location="FR",
                               flush_interval_s=0.1) as run:
            for epoch in range(3):
                with run.task(f"epoch-{epoch}"):
                    time.sleep(0.3)
    assert run.wait_saved(timeout=30)
    writer = recorder.current_writer()
    assert writer is None or writer.wait_idle(timeout=30)
    rid = run.result.run_id
    summary = httpx.get(f"{team_server.url}/api/v1/runs/{rid}/summary", timeout=30).json()
    assert summary["status"] == "finished"

    page = browser.page()
    page.goto(f"{team_server.url}/runs/{rid}")
    page.wait_for_selector("#components table")
    assert "counter" in page.locator("#components").inner_text()  # the CPU from its RAPL counter
    power = chart_data(page, "power")
    cpu = next(d for d in power["datasets"] if d["label"] == "cpu (W)")
    steps = summary["power_steps"]
    assert [p["y"] for p in cpu["data"]] == [pytest.approx(s["power_w"]["cpu"]) for s in steps for _ in (0, 1)]
    assert cpu["data"][-1]["x"] == pytest.approx(steps[-1]["end_offset_s"])
    tasks = chart_data(page, "tasks")
    assert tasks["labels"] == ["epoch-0", "epoch-1", "epoch-2"]
    assert sum(tasks["datasets"][0]["data"]) == pytest.approx(sum(t["energy_j"] for t in summary["tasks"]) / 3600)
    assert "France" in page.locator("#carbon").inner_text()
    reprice = chart_data(page, "reprice")  # the run's own IT energy priced elsewhere, greenest first
    assert reprice["datasets"][0]["data"] == sorted(reprice["datasets"][0]["data"])
    shot(page, "run-tracked")
    browser.check_no_errors()
