"""The dashboard in real headless Chromium over a real server filled with runs: every page loads with no console
error, its charts hold the runs' figures, the runs table sorts, filters and searches, runs compare with a noise
verdict, the calculator works, badges are SVG with the right figure."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from tests.fakes.dashboard import Browser, Filled, chart_data, shot
from wattprint.core.formatting import format_emissions

pytestmark = pytest.mark.slow


def test_overview(filled_server: Filled, browser: Browser) -> None:
    page = browser.page()
    page.goto(filled_server.server.url + "/")
    page.wait_for_selector("#projects table")
    trend = chart_data(page, "trend")
    assert {d["label"] for d in trend["datasets"]} == {"vision", "speech"}
    emissions = {run.name: run.emissions_g for run in filled_server.runs.values()}
    total = sum(v for d in trend["datasets"] for v in d["data"])
    assert total == pytest.approx(sum(emissions.values()), rel=1e-9)
    assert page.locator("#totals").inner_text().count("CO2e") >= 1
    assert "6" in page.locator("#totals .card").nth(1).inner_text()  # runs
    assert "± 5 %" in page.locator("#total-energy").inner_text()  # every run's energy is ± 5 %
    assert "± 12 %" in page.locator("#total-emissions").inner_text()
    assert all("± 5 %" in row for row in page.locator("#projects tbody tr").all_inner_texts())
    page.wait_for_selector("#recent table")
    page.wait_for_selector("#running .empty")
    shot(page, "overview")
    browser.check_no_errors()


def test_project_page_table_and_charts(filled_server: Filled, browser: Browser) -> None:
    page = browser.page()
    page.goto(filled_server.server.url + "/projects/vision")
    page.wait_for_selector("#runs-table")
    rows = page.locator("#runs-table tbody tr")
    assert rows.count() == 4
    assert "± 5 %" in page.locator("#total-energy").inner_text()  # every run's energy is ± 5 %
    assert "± 12 %" in page.locator("#total-emissions").inner_text()
    # sort by energy, largest first, then smallest first
    page.click("#runs-table th[data-sort=energy_j]")
    names = page.locator("#runs-table tbody tr td:nth-child(2) a").all_inner_texts()
    assert names[0] == "vit-large" and names[-1] == "resnet-c"
    page.click("#runs-table th[data-sort=energy_j]")
    assert page.locator("#runs-table tbody tr td:nth-child(2) a").first.inner_text() == "resnet-c"
    # filter by user, then search
    page.select_option("#filter-user", "bob")
    assert sorted(page.locator("#runs-table tbody tr td:nth-child(2) a").all_inner_texts()) == ["resnet-c", "vit-large"]
    page.fill("#search", "vit")
    assert page.locator("#runs-table tbody tr td:nth-child(2) a").all_inner_texts() == ["vit-large"]
    page.select_option("#filter-user", "")
    page.fill("#search", "baseline")  # a tag
    assert page.locator("#runs-table tbody tr td:nth-child(2) a").all_inner_texts() == ["resnet-a"]
    page.fill("#search", "")
    # charts: by day, by user, greenest regions
    time_chart = chart_data(page, "time")
    energy = sum(run.energy_j for run in filled_server.runs.values() if run.project == "vision") / 3.6e6
    assert sum(time_chart["datasets"][0]["data"]) == pytest.approx(energy, rel=1e-9)
    breakdown = chart_data(page, "breakdown")
    assert set(breakdown["labels"]) == {"alice", "bob"}
    page.select_option("#breakdown-by", "host")
    page.wait_for_function("() => window.wpCharts.breakdown.data.labels.includes('gpu-2')")
    regions = chart_data(page, "regions")
    assert len(regions["labels"]) == 10 and regions["datasets"][0]["data"] == sorted(regions["datasets"][0]["data"])
    page.wait_for_selector("#duplicates table")
    assert "3" in page.locator("#duplicates table tbody tr").first.inner_text()
    page.wait_for_selector("#downloads button")
    page.wait_for_selector("#badges img")
    shot(page, "project")
    # select two runs and compare them
    for name in ("resnet-a", "vit-large"):
        page.check(f"#runs-table tr[data-run='{filled_server.runs[name].run_id}'] input")
    page.click("#compare-selected")
    page.wait_for_selector("#compare-table")
    assert "/compare?run=" in page.url
    browser.check_no_errors()


def test_run_page(filled_server: Filled, browser: Browser) -> None:
    run = filled_server.runs["resnet-a"]
    page = browser.page()
    page.goto(f"{filled_server.server.url}/runs/{run.run_id}")
    page.wait_for_selector("#components table")
    power = chart_data(page, "power")
    assert {d["label"] for d in power["datasets"]} == {"cpu (W)", "gpu (W)", "ram (W)"}
    cpu = next(d for d in power["datasets"] if d["label"] == "cpu (W)")
    assert cpu["data"][0] == {"x": 0, "y": pytest.approx(10.0)}  # 100 J over the first 10 s
    assert len(cpu["data"]) == 12  # 6 buckets, a step each
    assert re.search(r"±\s*5 %", page.locator("#figure-energy").inner_text())
    assert "model" in page.locator("#components").inner_text() and "sampled" in page.locator("#components").inner_text()
    assert "the location was given explicitly" in page.locator("#carbon").inner_text()
    tasks = chart_data(page, "tasks")
    assert tasks["labels"] == ["epoch-0", "epoch-1", "epoch-2"]
    assert tasks["datasets"][0]["data"][0] == pytest.approx(3000.5 / 3600)
    predictions = chart_data(page, "predictions")
    assert predictions["datasets"][0]["data"] == [0.0036, 0.00345]
    assert predictions["datasets"][3]["data"][0] == pytest.approx(run.energy_j / 3.6e6)
    reprice = chart_data(page, "reprice")
    assert len(reprice["labels"]) == 12
    page.wait_for_function("() => document.getElementById('paragraph').textContent.length > 50")
    assert "co2_eq_emissions:" in page.locator("#model-card").inner_text()
    page.wait_for_selector("#downloads button[data-format=md]")
    with page.expect_download() as info:
        page.click("#downloads button[data-format=md]")
    download = info.value
    assert download.suggested_filename == f"wattprint-run-{run.run_id[:12]}.md"
    assert "resnet-a" in Path(download.path()).read_text(encoding="utf-8")
    assert page.locator("#live").is_hidden()
    assert page.locator("#intensity-panel").is_hidden()  # priced at a yearly average only
    shot(page, "run")
    # a live-priced run draws its intensity over time, in seconds from its start
    page.goto(f"{filled_server.server.url}/runs/{filled_server.runs['resnet-b'].run_id}")
    intensity = chart_data(page, "intensity")
    points = [(p["x"], p["y"]) for p in intensity["datasets"][0]["data"]]
    assert points == [pytest.approx(v) for v in [(0, 50), (30, 50), (30, 40), (60, 40), (60, 30), (100.375, 30)]]
    assert "Electricity Maps" in page.locator("#intensity-note").inner_text()
    assert "live-priced total" in page.locator("#carbon").inner_text()
    shot(page, "run-live-priced")
    browser.check_no_errors()


def test_compare_with_repetitions(filled_server: Filled, browser: Browser) -> None:
    a, b = filled_server.runs["resnet-a"], filled_server.runs["vit-large"]
    page = browser.page()
    page.goto(f"{filled_server.server.url}/compare?run={a.run_id}&run={b.run_id}")
    page.wait_for_selector("#compare-table")
    text = page.locator("#compare-table").inner_text()
    assert "mean of 3 repetitions" in text
    # 48 kJ against a mean of 12.07 kJ with 5 % uncertainties: far beyond the noise
    assert page.locator("#compare-table tr.diff [data-verdict]").first.get_attribute("data-verdict") == "larger"
    energy = chart_data(page, "compare-energy")
    assert energy["datasets"][0]["data"][1] == pytest.approx(b.energy_j / 3.6e6)
    shot(page, "compare")
    # two repetitions of one training differ by less than the noise
    c = filled_server.runs["resnet-b"]
    page.goto(f"{filled_server.server.url}/compare?run={a.run_id}&run={c.run_id}&repetitions=false")
    page.wait_for_selector("#compare-table")
    assert page.locator("#compare-table tr.diff [data-verdict]").first.get_attribute("data-verdict") == "within"
    browser.check_no_errors()


def test_calculator_without_a_token(filled_server: Filled, browser: Browser) -> None:
    page = browser.page()
    page.goto(filled_server.server.url + "/calculator")
    page.fill("input[name=gpu]", "A100 SXM4 80GB")
    page.fill("input[name=hours]", "2")
    page.fill("input[name=location]", "FR")
    page.click("#calc-form button[type=submit]")
    page.wait_for_selector("#calc-regions table")
    assert "800 Wh" in page.locator("#calc-energy").inner_text()
    assert "±" in page.locator("#calc-energy").inner_text() and "model" in page.locator("#calc-energy").inner_text()
    regions = chart_data(page, "calc-regions")
    assert len(regions["labels"]) == 15
    shot(page, "calculator")
    # a wrong value is named
    page.fill("input[name=gpu]", "no such gpu at all")
    page.click("#calc-form button[type=submit]")
    page.wait_for_selector("#calc-error:not([hidden])")
    assert "gpu" in page.locator("#calc-error").inner_text()
    errors, browser.errors = browser.errors, []
    assert [e for e in errors if "422" not in e] == [], errors  # the refused estimate itself is logged by Chromium


def test_settings_tokens(filled_server: Filled, browser: Browser) -> None:
    server = filled_server.server
    page = browser.page()
    page.goto(server.url + "/settings")
    assert "Enter an admin token" in page.locator("#tokens").inner_text()
    page.click("#token-change")
    page.fill("#token-input", server.admin_token or "")
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("#tokens table")
    page.select_option("#token-create select[name=scope]", "read")
    page.fill("#token-create input[name=name]", "dashboard test")
    page.click("#token-create button[type=submit]")
    page.wait_for_selector("#new-token-value")
    token = page.locator("#new-token-value").inner_text()
    assert httpx.get(server.url + "/api/v1/runs", headers=server.auth(token), timeout=30).status_code == 200
    token_id = token.split("_")[1]
    page.once("dialog", lambda dialog: dialog.accept())
    page.click(f"button[data-revoke='{token_id}']")
    page.wait_for_selector("xpath=//td[contains(., 'revoked')]")
    assert httpx.get(server.url + "/api/v1/runs", headers=server.auth(token), timeout=30).status_code == 401
    shot(page, "settings")
    browser.check_no_errors()


def test_badges(filled_server: Filled) -> None:
    server = filled_server.server
    run = filled_server.runs["vit-large"]
    answer = httpx.get(f"{server.url}/api/v1/badge.svg", params={"run": run.run_id, "figure": "energy"}, timeout=30)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("image/svg+xml")
    svg = ET.fromstring(answer.text)
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert texts == ["energy", "13.3 Wh ± 5%"]  # 48,000 J
    urls = httpx.get(f"{server.url}/api/v1/badges", params={"project": "vision"}, timeout=30).json()["items"]
    co2 = next(u for u in urls if u["figure"] == "co2e")
    project = httpx.get(co2["url"], timeout=30)
    total = sum(r.emissions_g for r in filled_server.runs.values() if r.project == "vision")
    texts = [t.text for t in ET.fromstring(project.text).iter("{http://www.w3.org/2000/svg}text")]
    assert texts == ["CO2e", format_emissions(total)]  # a project's total carries no single uncertainty
    # the key opens that badge only; without it a server that needs tokens refuses
    other = httpx.get(f"{server.url}/api/v1/badge.svg", params={"project": "speech", "key": co2["url"][-16:]},
                      timeout=30)
    assert other.status_code == 403, other.text


def test_a_hostile_project_name_is_shown_as_text(filled_server: Filled, browser: Browser) -> None:
    from dataclasses import replace

    from tests.fakes.dashboard import put
    from tests.fakes.pg import make_components, make_intervals, run_id
    from wattprint.api.records import RunDocument

    name = "α/<img src=x onerror=\"window.pwned=1\">'&"
    run = replace(filled_server.runs["whisper-tiny"], run_id=run_id(7, 99), project=name, name="<b>bold</b>")
    put(filled_server.server, RunDocument(run=run, components=tuple(make_components()),
                                          intervals=tuple(make_intervals(2))))
    page = browser.page()
    page.goto(filled_server.server.url + "/")
    page.wait_for_selector("#projects table")
    page.click(f"#projects a:text-is({name!r})")
    page.wait_for_selector("#runs-table")
    assert page.locator("h1").inner_text() == name
    assert page.locator("#runs-table tbody a").first.inner_text() == "<b>bold</b>"
    chart_data(page, "time")
    assert page.evaluate("() => window.pwned") is None
    browser.check_no_errors()
