"""The live view: a run page of a running run updates its figures and its power chart without a reload while the
run is sent in steps, and says when it ended."""

from __future__ import annotations

import time

import pytest

from tests.fakes.dashboard import Browser, Filled, chart_data, priced, put, shot
from tests.fakes.pg import make_components, make_intervals, make_tasks, run_id
from wattprint.api.records import RunDocument

pytestmark = pytest.mark.slow


def step(rid: str, started: float, buckets: int, status: str = "running") -> RunDocument:
    """The run as it stands after ``buckets`` intervals of 10 s (energy as the factories give it). Its times are
    recent and its pid this process's: a running run not updated for 15 minutes reads as killed."""
    intervals = make_intervals(buckets)
    energy = sum(i.energy_j for i in intervals)
    run = priced(rid, energy, project="live", name="training", status=status, started_at=started,
                 updated_at=started + 10 * buckets, duration_s=10.0 * buckets,
                 ended_at=None if status == "running" else started + 10 * buckets)
    return RunDocument(run=run, components=tuple(make_components()), intervals=tuple(intervals),
                       tasks=tuple(make_tasks(min(buckets, 3))))


def test_a_running_run_updates_without_reload(filled_server: Filled, browser: Browser) -> None:
    server = filled_server.server
    rid = run_id(8, 1)
    started = time.time() - 120
    put(server, step(rid, started, 2))
    page = browser.page()
    page.goto(f"{server.url}/runs/{rid}")
    page.wait_for_selector("#live:not([hidden])")
    assert len(chart_data(page, "power")["datasets"][0]["data"]) == 2 * 2
    page.evaluate("() => { window.notReloaded = true; }")
    put(server, step(rid, started, 4))
    page.wait_for_function("() => window.wpCharts.power.data.datasets[0].data.length === 8", timeout=60_000)
    assert "1 min" not in page.locator("#figure-duration").inner_text()
    assert "40 s" in page.locator("#figure-duration").inner_text()
    shot(page, "run-live")
    put(server, step(rid, started, 7, status="finished"))
    page.wait_for_function("() => document.getElementById('live-text').textContent.includes('ended')",
                           timeout=60_000)
    assert len(chart_data(page, "power")["datasets"][0]["data"]) == 2 * 7
    assert "1 min 10 s" in page.locator("#figure-duration").inner_text()
    assert page.evaluate("() => window.notReloaded") is True  # the same page all along
    browser.check_no_errors()
