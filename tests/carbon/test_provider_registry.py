"""The live provider registry: a provider defined here, in one class, is accepted by the configuration, used by
``plan``, listed by ``wattprint plan --provider`` and diagnosed by ``doctor``, with nothing else edited; a broken
entry point is logged once and reported as an unknown name."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.provider_server import ReplayServer, Reply, Seen
from wattprint.carbon import providers
from wattprint.carbon.providers import AVERAGE, IntensityPoint, IntensityProvider, provider_names, register
from wattprint.core.errors import ConfigError
from wattprint.plan.schedule import plan_for
from wattprint.settings.config import load_config

H = 3600.0


class FlatGrid(IntensityProvider):
    """A made-up provider: ``GET /forecast?zone=FLAT`` answers ``{"points": [[start_s, g_per_kwh], ...]}``."""

    name = "flatgrid"
    title = "Flat Grid"
    kind = AVERAGE
    period_s = H
    default_url = "https://flatgrid.invalid"
    zone_help = "'FLAT'"

    @classmethod
    def check_zone(cls, zone: str) -> str:
        if zone.strip().upper() != "FLAT":
            raise ConfigError(f"intensity_zone {zone!r} is not valid for Flat Grid: use {cls.zone_help}")
        return "FLAT"

    def forecast(self, zone: str, horizon: object = 86400.0, *, attempts: int | None = None) -> list[IntensityPoint]:
        data = self._get("/forecast", what="forecast", params={"zone": self.check_zone(zone)}, attempts=attempts)
        return [IntensityPoint(start, start + H, value, AVERAGE, "FLAT", "Flat Grid forecast", self.name,
                               forecast=True) for start, value in data["points"]]


def flat_forecast(values: list[float]) -> Any:
    def answer(seen: Seen) -> Reply:
        now = time.time()
        return Reply({"points": [[now - now % H + i * H, v] for i, v in enumerate(values)]})

    return answer


@pytest.fixture
def flatgrid() -> Iterator[type[FlatGrid]]:
    register(FlatGrid)
    try:
        yield FlatGrid
    finally:
        providers.unregister("flatgrid")


def test_a_registered_provider_is_configured_and_plans(flatgrid: type[FlatGrid], server: ReplayServer) -> None:
    server.route("/forecast", flat_forecast([300, 300, 100, 100, 300, 300]))
    assert "flatgrid" in provider_names()
    config = load_config({"intensity_provider": "FlatGrid", "intensity_url": server.url, "intensity_zone": "flat",
                          "intensity_disk_cache": False})
    assert config.get("intensity_provider") == "flatgrid"  # a choice, spelled as registered
    plans = plan_for(duration_s="2h", config=config)
    assert plans.best is not None and plans.best.mean_g_per_kwh == pytest.approx(100.0)
    assert server.requests("/forecast")[0].query["zone"] == "FLAT"
    with pytest.raises(ConfigError, match="Flat Grid"):
        providers.check_provider_settings(load_config({"intensity_provider": "flatgrid", "intensity_zone": "DE"}))


def test_the_command_line_and_doctor_list_a_registered_provider(
    flatgrid: type[FlatGrid], server: ReplayServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from wattprint.cli.main import main

    server.route("/forecast", flat_forecast([200, 50, 50, 200]))
    monkeypatch.setenv("WATTPRINT_INTENSITY_URL", server.url)
    monkeypatch.setenv("WATTPRINT_INTENSITY_ZONE", "FLAT")
    assert main(["plan", "--duration", "2h", "--provider", "flatgrid", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["best"]["mean_g_per_kwh"] == pytest.approx(50.0)
    with pytest.raises(SystemExit):
        main(["plan", "--duration", "2h", "--provider", "carbonara"])
    assert "'flatgrid'" in capsys.readouterr().err  # argparse's "choose from" lists it

    from wattprint.report.diagnostics import diagnose

    checks = diagnose(environ={"WATTPRINT_INTENSITY_PROVIDER": "flatgrid", "WATTPRINT_INTENSITY_ZONE": "FLAT"})
    line = next(c for c in checks if c.area == "provider")
    assert line.status == "ok" and "flatgrid (Flat Grid)" in line.summary and "zone FLAT" in line.summary


def test_doctor_names_a_missing_credential() -> None:
    from wattprint.report.diagnostics import diagnose

    checks = diagnose(environ={"WATTPRINT_INTENSITY_PROVIDER": "electricitymaps"})
    line = next(c for c in checks if c.area == "provider")
    assert line.status == "error" and "electricitymaps_token" in line.summary and line.fix
    assert not [c for c in diagnose(environ={}) if c.area == "provider"]  # no provider, no line


def test_a_broken_entry_point_is_logged_once_and_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    info = tmp_path / "wattprint_broken-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: wattprint-broken\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[wattprint.intensity_providers]\nbroken = missing_package.module:Provider\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    providers.REGISTRY.refresh()
    try:
        assert provider_names()[-1] == "broken"  # listed without loading anything
        with caplog.at_level(logging.WARNING, logger="wattprint"):
            for _ in range(2):
                with pytest.raises(ConfigError, match="intensity_provider='broken' is not valid"):
                    providers.provider_class("broken")
        assert [r.getMessage() for r in caplog.records].count(
            "wattprint: intensity provider 'broken' from missing_package.module:Provider is skipped: it failed to "
            "load: ModuleNotFoundError: No module named 'missing_package'") == 1
    finally:
        monkeypatch.undo()
        providers.REGISTRY.refresh()
