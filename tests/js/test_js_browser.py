"""The JavaScript client's browser build in real headless Chromium: a page served from one origin talks to a real
``wattprint server --cors-origin <that origin>`` (reads, ingest, problem details, the IndexedDB queue across a
reload), and the static calculator page gives Python's figures."""

from __future__ import annotations

import functools
import math
import os
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.pg import free_port
from tests.fakes.server import TeamServer, server_cli, sqlite_url, start_server
from tests.js.jsenv import JS_ROOT, build, require_node

CHROMIUM = "/usr/bin/chromium"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass


@pytest.fixture(scope="module")
def static_origin() -> Iterator[str]:
    """clients/js served by a plain static file server on 127.0.0.1 (the pages' origin)."""
    require_node()
    build()
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(JS_ROOT)))
    thread = threading.Thread(target=server.serve_forever, name="static-pages", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def page_factory() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; CI is set, so the browser tests must run")
        pytest.skip(f"{CHROMIUM} is missing (Debian: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        errors: list[str] = []

        def new_page(expected: tuple[str, ...] = ()) -> Any:
            page = browser.new_context().new_page()
            page.set_default_timeout(60_000)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" and not any(
                e in m.text for e in expected) else None)
            return page

        new_page.errors = errors  # type: ignore[attr-defined]
        try:
            yield new_page
        finally:
            browser.close()


@pytest.fixture
def cors_server(static_origin: str, tmp_path: Path) -> Iterator[TeamServer]:
    with start_server(sqlite_url(tmp_path / "team.sqlite"), tmp_path, args=["--cors-origin", static_origin]) as s:
        yield s


_SCENARIO = """async ({url, token, down}) => {
  const w = window.wattprint;
  const client = new w.WattprintClient({url, token});
  const out = {health: (await client.health()).status};
  const queue = new w.IndexedDbQueue("wattprint-test");
  const unreachable = new w.WattprintClient({url: down, retries: 2, backoffMs: 1});
  const offline = w.startRun(unreachable, {project: "browser", name: "offline", queue});
  offline.addInterval({bucket: 0, start_offset_s: 0, end_offset_s: 5, component: "cpu", device: "package-0",
                       energy_j: 12.5, avg_power_w: 2.5, method: "model", uncertainty_rel: 0.4});
  await Promise.all([offline.send(), offline.send()]);  // two states of one run queued at once: one entry
  out.offline = (await offline.finish()).outcome;
  out.runId = offline.runId;
  const live = w.startRun(client, {project: "browser", name: "live"});
  live.addInterval({bucket: 0, start_offset_s: 0, end_offset_s: 5, component: "gpu", device: "gpu:0", energy_j: 100,
                    avg_power_w: 20, method: "counter", uncertainty_rel: 0.05});
  out.live = (await live.finish()).outcome;
  try { await new w.WattprintClient({url, token: "wp_000000000000_" + "x".repeat(40)}).listRuns(); }
  catch (e) { out.problem = {name: e.name, status: e.status, slug: e.slug, detail: e.problem.detail}; }
  out.estimate = (await client.estimate({gpu: "T4", hours: 1, location: "FR"})).emissions_g;
  return out;
}"""

_FLUSH = """async ({url, token}) => {
  const w = window.wattprint;
  const client = new w.WattprintClient({url, token});
  const queue = new w.IndexedDbQueue("wattprint-test");
  const waiting = (await queue.list()).map((d) => d.run.run_id);
  const flushed = await w.flushQueue(client, queue);
  const runs = [];
  for await (const r of client.runs({project: "browser", sort: "started_at", limit: 1})) runs.push(r.name);
  return {waiting, flushed, runs, left: (await queue.list()).length};
}"""


def test_browser_build_talks_to_the_server_through_cors(cors_server: TeamServer, static_origin: str,
                                                        page_factory: Any) -> None:
    page = page_factory(expected=("Failed to load resource", "ERR_CONNECTION_REFUSED"))
    page.goto(static_origin + "/test/browser/index.html")
    page.wait_for_function("() => window.wattprintReady === true")
    args = {"url": cors_server.url, "token": cors_server.admin_token, "down": f"http://127.0.0.1:{free_port()}"}
    out = page.evaluate(_SCENARIO, args)
    assert out["health"] == "ok"
    assert out["offline"] == "queued" and out["live"] == "sent"
    assert out["problem"]["name"] == "ProblemError" and out["problem"]["status"] == 401
    assert out["estimate"] > 0
    page.reload()  # the IndexedDB queue outlives the page
    page.wait_for_function("() => window.wattprintReady === true")
    flushed = page.evaluate(_FLUSH, args)
    assert flushed["waiting"] == [out["runId"]]
    assert flushed["flushed"] == {"sent": [out["runId"]], "left": [], "rejected": []}
    assert flushed["runs"] == ["offline", "live"] and flushed["left"] == 0
    assert not page_factory.errors, page_factory.errors


def test_without_cors_origin_the_browser_is_refused(team_server: TeamServer, static_origin: str,
                                                   page_factory: Any) -> None:
    page = page_factory(expected=("CORS", "Failed to load resource", "Access-Control-Allow-Origin"))
    page.goto(static_origin + "/test/browser/index.html")
    page.wait_for_function("() => window.wattprintReady === true")
    name = page.evaluate("""async (url) => {
        try { await new window.wattprint.WattprintClient({url, retries: 1}).health(); return "answered"; }
        catch (e) { return e.name; } }""", team_server.url)
    assert name == "NetworkError"  # the browser withholds the answer: no Access-Control-Allow-Origin


def test_cors_origin_must_be_an_origin(tmp_path: Path) -> None:
    done = server_cli("--cors-origin", "https://app.example.org/path", store_url=sqlite_url(tmp_path / "s.sqlite"))
    assert done.returncode != 0
    assert "--cors-origin 'https://app.example.org/path' is not an origin" in done.stderr


def test_static_calculator_page_gives_pythons_figures(static_origin: str, page_factory: Any) -> None:
    from wattprint.plan.estimate import estimate

    page = page_factory()
    page.goto(static_origin + "/dist/calculator/index.html")
    page.wait_for_function("() => window.lastEstimate !== undefined")
    gpu = "NVIDIA A100 80GB PCIe"
    page.select_option("select[name=gpu]", gpu)
    page.fill("input[name=gpu_count]", "4")
    page.fill("input[name=hours]", "36")
    page.fill("input[name=location]", "gcp:europe-west1")
    page.fill("input[name=memory_gb]", "256")
    page.wait_for_function("() => window.lastEstimate.intensity.zone === 'gcp:europe-west1' && "
                           "window.lastEstimate.energy_kwh > 40")
    got = page.evaluate("() => window.lastEstimate")
    want = estimate(gpu=gpu, gpu_count=4, hours=36, location="gcp:europe-west1", memory_gb=256).to_dict()
    for key in ("energy_kwh", "facility_energy_kwh", "emissions_g", "emissions_uncertainty_rel", "water_l", "pue"):
        assert math.isclose(got[key], want[key], rel_tol=1e-9), (key, got[key], want[key])
    shown = page.text_content("[data-figure=emissions_g]") or ""
    assert math.isclose(float(shown.split()[0].replace(",", "")), want["emissions_g"], rel_tol=5e-3), shown  # 3 digits
    table = page.text_content("#regions") or ""
    assert "gcp:europe-west1" in table and "cloud regions compared" in table
    cells = page.locator("#regions tbody tr").first.locator("td").all_inner_texts()
    assert "±" in cells[2] and "±" in cells[4], cells  # each region's intensity and emissions with their ±
    assert "Ember" in (page.text_content("#attribution") or "")
    assert not page_factory.errors, page_factory.errors


def test_cors_preflight_and_origins_with_workers(tmp_path: Path) -> None:
    """The option reaches every worker process: a preflight from an allowed origin is answered with it, another
    origin gets no Access-Control-Allow-Origin (the browser then withholds the answer)."""
    import httpx

    allowed = "https://app.example.org"
    with start_server(sqlite_url(tmp_path / "team.sqlite"), tmp_path,
                      args=["--workers", "2", "--cors-origin", allowed, "--cors-origin", "http://localhost:5173"]) as s:
        for _ in range(4):  # the workers share the port: several requests reach both
            preflight = httpx.options(f"{s.url}/api/v1/runs/{'a' * 32}", timeout=30, headers={
                "Origin": allowed, "Access-Control-Request-Method": "PUT",
                "Access-Control-Request-Headers": "authorization,content-type"})
            assert preflight.status_code == 200, preflight.text
            assert preflight.headers["access-control-allow-origin"] == allowed
            assert "PUT" in preflight.headers["access-control-allow-methods"]
            assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
            other = httpx.get(f"{s.url}/api/v1/health", headers={"Origin": "https://evil.example"}, timeout=30)
            assert other.status_code == 200 and "access-control-allow-origin" not in other.headers
