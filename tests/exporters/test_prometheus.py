"""Prometheus: a tracked run scraped from a real /metrics endpoint on 127.0.0.1 and parsed with prometheus_client's
own parser; the node_exporter textfile parsed back; names, labels and values are the run's."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fakes.wait import wait_for
from wattprint import sinks
from wattprint.core.errors import ConfigError
from wattprint.core.results import RunResult
from wattprint.exporters import prometheus
from wattprint.exporters.prometheus import METRICS, PrometheusSink, PushgatewaySink, TextfileSink

Samples = dict[str, dict[tuple[tuple[str, str], ...], float]]


def parse(text: str) -> Samples:
    """Every sample by name and sorted labels; the exposition text is checked by the real parser."""
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def scrape(url: str) -> Samples:
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(response.text)


def device_labels(component: str, device: str, method: str) -> tuple[tuple[str, str], ...]:
    return (("component", component), ("device", device), ("method", method))


def assert_is_the_run(samples: Samples, result: RunResult) -> None:
    energy = samples["wattprint_energy_joules_total"]
    assert len(energy) == len(result.devices) >= 4  # two GPUs, the CPU and RAM models
    for device in result.devices:
        labels = device_labels(device.component, device.device, device.method)
        assert energy[labels] == pytest.approx(device.energy_j, rel=1e-9)
        assert samples["wattprint_energy_uncertainty_ratio"][labels] == pytest.approx(device.uncertainty_rel)
    assert result.emissions_g is not None and result.footprint is not None
    assert samples["wattprint_emissions_grams_total"][()] == pytest.approx(result.emissions_g, rel=1e-9)
    intensity = samples["wattprint_grid_intensity_grams_per_kilowatt_hour"]
    ((labels, g_per_kwh),) = intensity.items()
    assert g_per_kwh == pytest.approx(result.footprint.intensity.g_per_kwh)
    assert dict(labels)["zone"] == result.footprint.intensity.zone


def test_a_run_scraped_from_the_endpoint_is_the_run_and_its_counters_never_go_down(
        tracked: Callable[..., RunResult]) -> None:
    scrapes: list[Samples] = []
    with prometheus.start_http_server(0) as server:
        assert server.host == "127.0.0.1" and server.port > 0
        before = scrape(server.url)
        assert "wattprint_energy_joules_total" not in before and before["wattprint_runs_running"][()] == 0

        def during(run: Any) -> None:  # scraped while the run runs, after its flushes have carried energy
            wait_for(lambda: scrape(server.url).get("wattprint_power_watts"), "a flush with power", timeout=30)
            scrapes.append(scrape(server.url))

        result = tracked(epochs=4, during=during)
        scrapes.append(scrape(server.url))
    assert result.energy_j > 0
    running = scrapes[0]
    assert running["wattprint_runs_running"][()] == 1
    gpu = running["wattprint_power_watts"]
    for index, (_, watts) in enumerate((("a", 120.0), ("b", 80.0))):
        labels = device_labels("gpu", f"gpu:{index}", "counter")
        assert labels in gpu and gpu[labels] == pytest.approx(watts, rel=0.25)
    final = scrapes[-1]
    assert_is_the_run(final, result)
    assert "wattprint_power_watts" not in final  # nothing runs any more: no power to show
    assert final["wattprint_runs_running"][()] == 0 and final["wattprint_runs_ended_total"][()] == 1
    for earlier, later in pairwise(scrapes):
        for name in ("wattprint_energy_joules_total", "wattprint_emissions_grams_total"):
            for labels, value in earlier.get(name, {}).items():
                assert later[name][labels] >= value, (name, labels)
    assert set(final) <= set(METRICS) and set(METRICS) - {"wattprint_power_watts"} <= set(final)


def test_two_runs_add_up_and_the_endpoint_stops_with_its_sink(tracked: Callable[..., RunResult]) -> None:
    with prometheus.start_http_server(0) as server:
        first, second = tracked(epochs=1), tracked(epochs=2)
        samples = scrape(server.url)
    for device in first.devices:
        labels = device_labels(device.component, device.device, device.method)
        other = next(d for d in second.devices if d.device == device.device)
        assert samples["wattprint_energy_joules_total"][labels] == pytest.approx(
            device.energy_j + other.energy_j, rel=1e-9)
    assert first.emissions_g is not None and second.emissions_g is not None
    assert samples["wattprint_emissions_grams_total"][()] == pytest.approx(first.emissions_g + second.emissions_g)
    assert samples["wattprint_runs_ended_total"][()] == 2
    with pytest.raises(httpx.TransportError):
        httpx.get(server.url, timeout=5)
    third = tracked(epochs=1)  # detached: the closed endpoint's sink sees no more runs
    assert server.sink.totals.figures().runs_ended == 2 and third.energy_j > 0


def test_the_textfile_is_valid_exposition_of_the_run(tmp_path: Path, tracked: Callable[..., RunResult]) -> None:
    path = tmp_path / "textfile" / "wattprint.prom"
    path.parent.mkdir()
    sink = sinks.attach(TextfileSink(path))
    try:
        result = tracked(epochs=2)
    finally:
        sinks.detach(sink)
    text = path.read_text()
    assert "# TYPE wattprint_energy_joules_total counter" in text or "# TYPE wattprint_energy_joules counter" in text
    assert_is_the_run(parse(text), result)
    assert [p.name for p in path.parent.iterdir()] == ["wattprint.prom"]  # replaced whole, no temporary left


def test_a_textfile_not_named_prom_is_refused_and_a_missing_directory_stops_nothing(
        tmp_path: Path, tracked: Callable[..., RunResult], caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(ConfigError, match=r"only files ending in \.prom; name it e\.g\. wattprint\.prom"):
        TextfileSink(tmp_path / "metrics.txt")
    lost = sinks.attach(TextfileSink(tmp_path / "nowhere" / "wattprint.prom"))
    try:
        with prometheus.start_http_server(0) as server:
            result = tracked(epochs=1)
            samples = scrape(server.url)
    finally:
        sinks.detach(lost)
    assert_is_the_run(samples, result)  # the other sink had everything
    assert not (tmp_path / "nowhere").exists()
    assert sum("prometheus-textfile sink could not be opened" in r.getMessage() for r in caplog.records) == 1


def test_the_asgi_app_serves_the_same_figures(tracked: Callable[..., RunResult]) -> None:
    app = prometheus.make_asgi_app()
    try:
        result = tracked(epochs=1)
    finally:
        app.close()

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://wattprint.test") as client:
            return await client.get("/")

    import asyncio

    response = asyncio.run(get())
    assert response.status_code == 200
    assert_is_the_run(parse(response.text), result)


class Pushgateway(BaseHTTPRequestHandler):
    """What a Pushgateway receives: the method, the grouping path and the exposition text of each push."""

    pushes: list[tuple[str, str, str, str]]

    def do_PUT(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.pushes.append(("PUT", self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_each_run_is_pushed_to_the_pushgateway_in_a_group_of_its_own(tracked: Callable[..., RunResult]) -> None:
    handler = type("TestPushgateway", (Pushgateway,), {"pushes": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    sink = sinks.attach(PushgatewaySink(f"http://127.0.0.1:{server.server_address[1]}", job="nightly"))
    try:
        first, second = tracked(epochs=1), tracked(epochs=2)
    finally:
        sinks.detach(sink)  # waits for the queued pushes
        server.shutdown()
        server.server_close()
        thread.join(5)
    pushes: list[tuple[str, str, str, str]] = handler.pushes
    assert pushes and all(method == "PUT" for method, *_ in pushes)
    assert all(kind.startswith("text/plain; version=0.0.4") for _, _, kind, _ in pushes)
    host = os.uname().nodename
    for result in (first, second):
        path = f"/metrics/job/nightly/instance/{host}/run_id/{result.run_id}"
        mine = [body for _, where, _, body in pushes if where == path]
        assert len(mine) >= 2  # a push at every flush, the last one the run's end
        last = parse(mine[-1])
        assert_is_the_run(last, result)  # the run's own totals, not the process's
        assert last["wattprint_runs_ended_total"][()] == 1


def test_the_sinks_are_in_the_registry() -> None:
    assert sinks.sink_class("prometheus") is PrometheusSink
    assert sinks.sink_class("prometheus-textfile") is TextfileSink
    assert sinks.sink_class("prometheus-pushgateway") is PushgatewaySink
