"""The API the dashboard reads, over the real server: reports in every format as downloads, the paper paragraph
and model-card block, a run's summary, runs compared, badges and their keys; bad parameters are named."""

from __future__ import annotations

import httpx
import pytest

from tests.fakes.dashboard import Filled
from wattprint.report import formats


def get(filled: Filled, path: str, **params: object) -> httpx.Response:
    return httpx.get(filled.server.url + path, params=params, timeout=60)  # type: ignore[arg-type]


def test_reports_in_every_format(filled_server: Filled) -> None:
    listed = get(filled_server, "/api/v1/report-formats").json()["items"]
    assert [f["name"] for f in listed] == list(formats.names())
    run = filled_server.runs["resnet-a"]
    for fmt in listed:
        answer = get(filled_server, f"/api/v1/runs/{run.run_id}/report", format=fmt["name"])
        assert answer.status_code == 200, (fmt, answer.text)
        assert answer.headers["content-disposition"] == (
            f'attachment; filename="wattprint-run-{run.run_id[:12]}{fmt["extension"]}"')
        assert answer.text.strip()
    assert "co2_eq_emissions:" in get(filled_server, f"/api/v1/runs/{run.run_id}/report", format="model-card").text
    project = get(filled_server, "/api/v1/projects/vision/report", format="md", download="false")
    assert project.status_code == 200 and "content-disposition" not in project.headers
    assert "resnet-b" in project.text
    wrong = get(filled_server, f"/api/v1/runs/{run.run_id}/report", format="pdf")
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "query.format" and "model-card" in wrong.json()["errors"][0]["message"]


def test_paper_and_summary(filled_server: Filled) -> None:
    run = filled_server.runs["resnet-a"]
    paper = get(filled_server, f"/api/v1/runs/{run.run_id[:12]}/paper").json()
    assert paper["run_id"] == run.run_id and "CO2e" in paper["paragraph"] and "\\" in paper["paragraph_latex"]
    assert paper["model_card"].startswith("co2_eq_emissions:") and paper["model_card_error"] is None
    summary = get(filled_server, f"/api/v1/runs/{run.run_id}/summary").json()
    assert summary["energy_j"] == run.energy_j and summary["tags"] == ["baseline", "resnet"]
    assert summary["location_sentence"].endswith("the location was given explicitly")
    steps = summary["power_steps"]
    assert len(steps) == 6 and steps[0]["power_w"]["cpu"] == pytest.approx(10.0)
    assert summary["prediction"]["vs_actual"]["energy_kwh"]["actual"] == pytest.approx(run.energy_j / 3.6e6)


def test_compare(filled_server: Filled) -> None:
    a, b = filled_server.runs["resnet-a"], filled_server.runs["vit-large"]
    result = get(filled_server, "/api/v1/compare", run=[a.run_id, b.run_id]).json()
    first = result["runs"][0]["figures"]["energy_kwh"]
    reps = [r.energy_j / 3.6e6 for r in filled_server.runs.values() if r.config_fingerprint == a.config_fingerprint]
    assert first["repetitions"] == 3 and first["value"] == pytest.approx(sum(reps) / 3)
    assert result["runs"][1]["versus_first"][0]["larger_than_noise"] is True
    alone = get(filled_server, "/api/v1/compare", run=[a.run_id, b.run_id], repetitions="false").json()
    assert alone["runs"][0]["figures"]["energy_kwh"]["repetitions"] == 1
    one = get(filled_server, "/api/v1/compare", run=a.run_id)
    assert one.status_code == 422 and one.json()["errors"][0]["field"] == "query.run"
    missing = get(filled_server, "/api/v1/compare", run=[a.run_id, "ffff" * 8])
    assert missing.status_code == 404


def test_badge_parameters(filled_server: Filled) -> None:
    both = get(filled_server, "/api/v1/badge.svg", project="vision", run=filled_server.runs["resnet-a"].run_id)
    assert both.status_code == 422
    figure = get(filled_server, "/api/v1/badge.svg", project="vision", figure="water")
    assert figure.status_code == 422 and "energy, co2e" in figure.text
    assert get(filled_server, "/api/v1/badge.svg", project="nope").status_code == 404
    evil = get(filled_server, "/api/v1/badges", project="vision")
    assert evil.status_code == 200
    from wattprint.server.badges import badge_svg

    svg = badge_svg("<x>", "a & b")
    assert "<x>" not in svg and "&lt;x&gt;" in svg and "a &amp; b" in svg
