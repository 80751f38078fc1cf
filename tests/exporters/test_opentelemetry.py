"""OpenTelemetry: a tracked run read back through the real SDK's in-memory reader, and sent over OTLP/HTTP to a
receiver on 127.0.0.1 that decodes the protobuf; the hardware semantic conventions' names, units and attributes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
from prometheus_client.parser import text_string_to_metric_families

from tests.fakes.wait import wait_for
from wattprint import sinks
from wattprint.core.errors import ConfigError
from wattprint.core.results import RunResult
from wattprint.exporters.opentelemetry import METRICS, OpenTelemetrySink, parse_headers
from wattprint.settings.typed import load_settings

Points = dict[str, dict[tuple[tuple[str, Any], ...], float]]


def sdk_points(reader: InMemoryMetricReader) -> tuple[Points, dict[str, Any]]:
    """Every data point by instrument and attributes, and every instrument's metric (unit, kind)."""
    points: Points = {}
    metrics: dict[str, Any] = {}
    data = reader.get_metrics_data()
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            assert scope.scope.name == "wattprint"
            for metric in scope.metrics:
                metrics[metric.name] = metric
                for point in metric.data.data_points:
                    points.setdefault(metric.name, {})[tuple(sorted(point.attributes.items()))] = point.value
    return points, metrics


def device_key(device: Any) -> tuple[tuple[str, Any], ...]:
    hw_type = {"ram": "memory"}.get(device.component, device.component)
    return tuple(sorted({"hw.id": device.device, "hw.type": hw_type, "wattprint.component": device.component,
                         "wattprint.method": device.method}.items()))


def assert_is_the_run(points: Points, result: RunResult) -> None:
    assert len(points["hw.energy"]) == len(result.devices) >= 4
    for device in result.devices:
        assert points["hw.energy"][device_key(device)] == pytest.approx(device.energy_j, rel=1e-9)
    ((_, host_j),) = points["hw.host.energy"].items()
    assert host_j == pytest.approx(result.energy_j, rel=1e-9)
    assert result.emissions_g is not None
    assert points["wattprint.emissions"][()] == pytest.approx(result.emissions_g, rel=1e-9)


@pytest.fixture
def in_memory() -> Iterator[tuple[InMemoryMetricReader, OpenTelemetrySink]]:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    sink = sinks.attach(OpenTelemetrySink(provider))
    yield reader, sink
    sinks.detach(sink)
    provider.shutdown()


def test_the_sdk_reads_the_run_with_the_hardware_conventions(
        in_memory: tuple[InMemoryMetricReader, OpenTelemetrySink], tracked: Callable[..., RunResult]) -> None:
    reader, _ = in_memory
    seen: list[Points] = []
    instruments: dict[str, Any] = {}

    def during(run: Any) -> None:
        points = wait_for(lambda: sdk_points(reader)[0].get("hw.power") and sdk_points(reader),
                          "a collection with power", timeout=30)
        seen.append(points[0])
        instruments.update(points[1])

    result = tracked(epochs=3, during=during)
    points, metrics = sdk_points(reader)
    assert_is_the_run(points, result)
    for name, (unit, _) in METRICS.items():
        assert instruments[name].unit == unit
    for name in ("hw.energy", "hw.host.energy", "wattprint.emissions"):
        assert metrics[name].data.is_monotonic
        assert metrics[name].data.aggregation_temporality == AggregationTemporality.CUMULATIVE
    assert "hw.power" not in points and "hw.host.power" not in points  # nothing runs any more
    gpu0 = next(d for d in result.devices if d.device == "gpu:0")
    assert seen[0]["hw.power"][device_key(gpu0)] == pytest.approx(120.0, rel=0.25)
    assert sum(seen[0]["hw.power"].values()) == pytest.approx(next(iter(seen[0]["hw.host.power"].values())))
    for before, after in zip(seen, [*seen[1:], points], strict=True):  # counters never go down
        for key, value in before["hw.energy"].items():
            assert after["hw.energy"][key] >= value


class Receiver(BaseHTTPRequestHandler):
    """An OTLP/HTTP metrics receiver: decodes each request's protobuf and keeps it with its headers."""

    received: list[tuple[dict[str, str], ExportMetricsServiceRequest]]

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportMetricsServiceRequest()
        request.ParseFromString(body)
        self.received.append(({k.lower(): v for k, v in self.headers.items()}, request))
        reply = ExportMetricsServiceResponse().SerializeToString()
        self.send_response(200 if self.path == "/v1/metrics" else 404)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], ExportMetricsServiceRequest]]]]:
    handler = type("TestReceiver", (Receiver,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler.received
    server.shutdown()
    server.server_close()
    thread.join(5)


def otlp_points(request: ExportMetricsServiceRequest) -> Points:
    points: Points = {}
    for resource in request.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                data = metric.sum if metric.HasField("sum") else metric.gauge
                for point in data.data_points:
                    attributes = tuple(sorted((a.key, a.value.string_value) for a in point.attributes))
                    points.setdefault(metric.name, {})[attributes] = point.as_double
    return points


def test_otlp_http_sends_the_run_to_the_configured_endpoint_with_its_headers(
        receiver: tuple[str, list[Any]], tracked: Callable[..., RunResult]) -> None:
    url, received = receiver
    settings = load_settings({"otlp_endpoint": url, "otlp_headers": "Authorization=Bearer%20s3cret, x-team=ml"})
    sink = OpenTelemetrySink(settings=settings, export_interval_s=0.2)
    assert sink.endpoint == url + "/v1/metrics"
    sinks.attach(sink)
    try:
        result = tracked(epochs=2)
    finally:
        sinks.detach(sink)  # closes the sink: its provider exports a last time and shuts down
    assert received
    headers, last = received[-1]
    assert headers["authorization"] == "Bearer s3cret" and headers["x-team"] == "ml"
    assert headers["content-type"] == "application/x-protobuf"
    resource = {a.key: a.value.string_value for a in last.resource_metrics[0].resource.attributes}
    assert resource["service.name"] == "wattprint"
    assert_is_the_run(otlp_points(last), result)


def test_bad_headers_are_refused_without_showing_them() -> None:
    assert parse_headers("a=1,b=x%2Cy") == {"a": "1", "b": "x,y"}
    with pytest.raises(ConfigError, match="otlp_headers: pair 2 is not name=value") as caught:
        OpenTelemetrySink(settings=load_settings({"otlp_headers": "a=1,TOKEN123"}))
    assert "TOKEN123" not in str(caught.value)


def test_the_sink_is_in_the_registry() -> None:
    assert sinks.sink_class("opentelemetry") is OpenTelemetrySink


def test_a_collector_that_is_down_stops_nothing(tmp_path: Path, tracked: Callable[..., RunResult]) -> None:
    from wattprint.exporters.prometheus import TextfileSink

    down = sinks.attach(OpenTelemetrySink(endpoint="http://127.0.0.1:9", export_interval_s=0.2))  # port 9: discard
    textfile = sinks.attach(TextfileSink(tmp_path / "wattprint.prom"))
    try:
        result = tracked(epochs=1)
    finally:
        sinks.detach(down)  # its last export fails within CLOSE_TIMEOUT_S
        sinks.detach(textfile)
    samples = {sample.name: sample.value for family in text_string_to_metric_families(
        (tmp_path / "wattprint.prom").read_text()) for sample in family.samples if not sample.labels}
    assert result.status == "finished" and samples["wattprint_runs_ended_total"] == 1  # the other sink had it all
    assert samples["wattprint_emissions_grams_total"] == pytest.approx(result.emissions_g, rel=1e-9)
