"""The dashboard's tests' helpers: a real server per module filled with runs sent through the API
(``filled_server``), one headless Chromium (Debian's, driven by Playwright) per module whose pages' console errors
are collected (``browser``), screenshots to /tmp/shots, and a chart's data read back from the page."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.pg import make_components, make_intervals, make_run, make_tasks, run_id
from tests.fakes.server import TeamServer, sqlite_url, start_server
from wattprint.api.codec import to_dict
from wattprint.api.records import FingerprintRecord, PredictionRecord, RunDocument, RunExtra, TimeResolvedRecord

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path("/tmp/shots")
FINGERPRINT = "sha256:" + "cd" * 32


def chromium_or_skip() -> None:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (scripts/install-test-tools.sh)")
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (scripts/install-test-tools.sh) to run the "
                    "dashboard's browser tests")


def priced(rid: str, energy_j: float, **changes: Any) -> Any:
    """A finished run priced in France, as a tracked run with a known location is stored."""
    g_per_kwh = 44.18
    values: dict[str, Any] = dict(
        energy_j=energy_j, location="FR", how_located="argument", intensity_g_per_kwh=g_per_kwh,
        intensity_zone="FR", intensity_source="Ember yearly (country_overview_yearly)", intensity_year=2024,
        intensity_kind="average", intensity_uncertainty_rel=0.1, pue=1.2, facility_energy_j=energy_j * 1.2,
        emissions_g=energy_j * 1.2 / 3.6e6 * g_per_kwh, emissions_uncertainty_rel=0.12,
        hardware=({"component": "gpu", "device": "gpu:0", "model": "NVIDIA A100", "source": "nvml"},),
    )
    values.update(changes)
    return make_run(rid, **values)


def prediction(after: int, total: int, energy_kwh: float) -> PredictionRecord:
    return PredictionRecord(
        unit="epoch", after=after, total=total, duration_s=100.0, duration_s_low=90.0, duration_s_high=110.0,
        energy_kwh=energy_kwh, energy_kwh_low=energy_kwh * 0.9, energy_kwh_high=energy_kwh * 1.1, emissions_g=None,
        emissions_g_low=None, emissions_g_high=None, level=0.9, interval_method="t", units_used=after,
        warmup_excluded=False, spent_duration_s=30.0 * after, spent_energy_kwh=energy_kwh * after / total,
        spent_emissions_g=None, made_at=1_764_000_000.0 + 30 * after)


LIVE_TIMELINE = ((0.0, 30.0, 50.0, "live"), (30.0, 60.0, 40.0, "live"), (60.0, 100.375, 30.0, "forecast"))
"""A live-priced run's intensity: (start, end) in seconds from its start, g/kWh, status."""


def live_priced(started: float) -> TimeResolvedRecord:
    """A run's emissions priced interval by interval by a live provider, as the live pricing stores them."""
    return TimeResolvedRecord(
        emissions_g=0.1, emissions_uncertainty_rel=0.15, intensity_g_per_kwh=38.0, kind="average",
        provider="electricitymaps", provider_title="Electricity Maps", zone="FR", source="Electricity Maps API",
        licence="see provider terms", live_share=0.6, forecast_share=0.4, fallback_share=0.0, coverage=1.0,
        intervals=3, timeline=tuple((started + a, started + b, g, status) for a, b, g, status in LIVE_TIMELINE))


@dataclass
class Filled:
    """The server and what was sent to it."""

    server: TeamServer
    runs: dict[str, Any] = field(default_factory=dict)


def put(server: TeamServer, document: RunDocument) -> None:
    answer = httpx.put(f"{server.url}/api/v1/runs/{document.run.run_id}", json=to_dict(document),
                       headers=server.auth(), timeout=30)
    assert answer.status_code == 200, answer.text


def fill(server: TeamServer) -> Filled:
    """Two projects: 'vision' with three repetitions of one training (one with predictions and tags) and a
    larger different one; 'speech' with runs of two users on two hosts; everything priced in France."""
    filled = Filled(server)
    day = 86_400.0
    extra = RunExtra(fingerprint=FingerprintRecord(hyperparameters={"lr": 0.001}), tags=("baseline", "resnet"),
                     predictions=(prediction(1, 3, 0.0036), prediction(2, 3, 0.00345)))
    specs = [
        ("vision", 1, "resnet-a", 12_000.0, 0, "alice", "gpu-1", dict(config_fingerprint=FINGERPRINT, extra=extra)),
        ("vision", 2, "resnet-b", 12_400.0, 1, "alice", "gpu-1", dict(config_fingerprint=FINGERPRINT)),
        ("vision", 3, "resnet-c", 11_800.0, 2, "bob", "gpu-2", dict(config_fingerprint=FINGERPRINT)),
        ("vision", 4, "vit-large", 48_000.0, 2, "bob", "gpu-2", {}),
        ("speech", 5, "whisper-tiny", 5_000.0, 0, "carol", "cpu-box", {}),
        ("speech", 6, "whisper-base", 9_000.0, 1, "dave", "cpu-box-2", dict(status="failed")),
    ]
    for project, index, name, energy, days, user, host, changes in specs:
        rid = run_id(7, index)
        started = 1_764_000_000.0 + days * day + index
        if name == "resnet-b":
            changes = {**changes, "extra": RunExtra(time_resolved=live_priced(started))}
        run = priced(rid, energy, project=project, name=name, username=user, hostname=host, started_at=started,
                     ended_at=started + 100.375, updated_at=started + 101, **changes)
        document = RunDocument(run=run, components=tuple(make_components()), intervals=tuple(make_intervals(6)),
                               tasks=tuple(make_tasks(3)))
        put(server, document)
        filled.runs[name] = run
    return filled


@pytest.fixture(scope="module")
def filled_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Filled]:
    workdir = tmp_path_factory.mktemp("dashboard")
    with start_server(sqlite_url(workdir / "team.sqlite"), workdir) as server:
        yield fill(server)


class Browser:
    """One Chromium for a module; ``page()`` opens a page whose console errors and page errors are collected."""

    def __init__(self, browser: Any) -> None:
        self.browser = browser
        self.errors: list[str] = []

    def page(self, *, expected_errors: tuple[str, ...] = ()) -> Any:
        context = self.browser.new_context(viewport={"width": 1360, "height": 900})
        page = context.new_page()
        page.set_default_timeout(60_000)

        def console(message: Any) -> None:
            if message.type == "error" and not any(e in message.text for e in expected_errors):
                self.errors.append(f"{page.url}: {message.text}")

        page.on("console", console)
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        return page

    def check_no_errors(self) -> None:
        errors, self.errors = self.errors, []
        assert not errors, "errors in the browser console:\n" + "\n".join(errors)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            yield Browser(chromium)
        finally:
            chromium.close()


def shot(page: Any, name: str) -> None:
    """A full-page screenshot to /tmp/shots/NAME.png, to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def chart_data(page: Any, name: str) -> Any:
    """The data a chart of the page holds (``window.wpCharts``), once it exists."""
    page.wait_for_function(f"() => window.wpCharts && window.wpCharts[{name!r}]")
    return page.evaluate(f"() => JSON.parse(JSON.stringify(window.wpCharts[{name!r}].data))")

