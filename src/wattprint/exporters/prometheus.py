"""Prometheus: every run of the process as counters and gauges in base units, read at scrape time.

A :class:`PrometheusSink` folds each payload into the process's figures (:mod:`wattprint.exporters.totals`); its
collector turns them into metric families when Prometheus scrapes, so a scrape costs no measurement. Three ways
out: an HTTP ``/metrics`` endpoint in the process (:func:`start_http_server`) or an ASGI app to mount
(:func:`make_asgi_app`), and a node_exporter textfile (:class:`TextfileSink`) rewritten at every flush.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from wattprint import sinks
from wattprint.exporters import missing
from wattprint.exporters._sender import Sender
from wattprint.exporters.totals import Figures, RunFigures, Totals

try:
    from prometheus_client import CollectorRegistry, push_to_gateway, write_to_textfile
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
    from prometheus_client.registry import Collector
except ImportError as error:  # pragma: no cover - the extra is installed wherever the tests run
    raise ImportError(missing("prometheus_client", "prometheus", "the Prometheus exporter")) from error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.settings.typed import Settings
    from wattprint.sinks.payload import Payload

__all__ = ["GRAFANA_DASHBOARD", "METRICS", "MetricsApp", "MetricsServer", "PrometheusSink", "PushgatewaySink",
           "TextfileSink", "WattprintCollector", "make_asgi_app", "start_http_server"]

DEVICE_LABELS = ("component", "device", "method")

GRAFANA_DASHBOARD = os.path.join(os.path.dirname(__file__), "grafana", "wattprint.json")
"""A Grafana dashboard of these metrics (import it in Grafana, pick the Prometheus data source)."""

METRICS = {
    "wattprint_energy_joules_total": "Energy of the runs of this process, per device, since it started (J).",
    "wattprint_energy_uncertainty_ratio": "Relative uncertainty of each device's energy (0.05: ±5 %).",
    "wattprint_power_watts": "Power of each device over the latest flush of the runs still running (W).",
    "wattprint_emissions_grams_total": "Emissions of the runs of this process, PUE included (g CO2e).",
    "wattprint_emissions_uncertainty_ratio": "Relative uncertainty of the latest run's emissions.",
    "wattprint_grid_intensity_grams_per_kilowatt_hour": "Grid carbon intensity the latest run was priced with.",
    "wattprint_runs_running": "Runs of this process being measured now.",
    "wattprint_runs_ended_total": "Runs of this process that have ended.",
}
"""Every sample name the collector emits, with its help text: what dashboards and alerts may query."""


def _help(sample: str) -> str:
    return METRICS[sample]


class WattprintCollector(Collector):
    """A custom collector: the figures of a :class:`~wattprint.exporters.totals.Totals`, read when scraped."""

    def __init__(self, totals: Totals) -> None:
        self.totals = totals

    def describe(self) -> Iterator[Metric]:
        """The metric families without samples, so a registry knows their names without a scrape."""
        return iter(_families(None))

    def collect(self) -> Iterator[Metric]:
        return iter(_families(self.totals.figures()))


def _families(figures: Figures | None) -> list[Metric]:
    """The metric families of ``figures`` (None: empty families, for ``describe``)."""
    energy = CounterMetricFamily("wattprint_energy_joules", _help("wattprint_energy_joules_total"),
                                 labels=DEVICE_LABELS, unit="joules")
    uncertainty = GaugeMetricFamily("wattprint_energy_uncertainty_ratio", _help("wattprint_energy_uncertainty_ratio"),
                                    labels=DEVICE_LABELS, unit="ratio")
    power = GaugeMetricFamily("wattprint_power_watts", _help("wattprint_power_watts"), labels=DEVICE_LABELS,
                              unit="watts")
    emissions = CounterMetricFamily("wattprint_emissions_grams", _help("wattprint_emissions_grams_total"),
                                    unit="grams")
    emissions_uncertainty = GaugeMetricFamily("wattprint_emissions_uncertainty_ratio",
                                              _help("wattprint_emissions_uncertainty_ratio"), unit="ratio")
    intensity = GaugeMetricFamily("wattprint_grid_intensity_grams_per_kilowatt_hour",
                                  _help("wattprint_grid_intensity_grams_per_kilowatt_hour"),
                                  labels=("zone", "source"))
    running = GaugeMetricFamily("wattprint_runs_running", _help("wattprint_runs_running"))
    ended = CounterMetricFamily("wattprint_runs_ended", _help("wattprint_runs_ended_total"))
    families: list[Metric] = [energy, uncertainty, power, emissions, emissions_uncertainty, intensity, running, ended]
    if figures is None:
        return families
    for device in figures.devices:
        labels = [device.component, device.device, device.method]
        energy.add_metric(labels, device.energy_j)
        uncertainty.add_metric(labels, device.uncertainty_rel)
        if device.power_w is not None:
            power.add_metric(labels, device.power_w)
    if figures.emissions_g is not None:
        emissions.add_metric([], figures.emissions_g)
    if figures.emissions_uncertainty_rel is not None:
        emissions_uncertainty.add_metric([], figures.emissions_uncertainty_rel)
    if figures.intensity_g_per_kwh is not None:
        intensity.add_metric([figures.intensity_zone or "", figures.intensity_source or ""],
                             figures.intensity_g_per_kwh)
    running.add_metric([], figures.runs_running)
    ended.add_metric([], figures.runs_ended)
    return families


@sinks.register
class PrometheusSink:
    """A sink whose figures a Prometheus scrape reads: register ``sink.registry`` (or ``sink.collector`` in a
    registry of your own) with a ``/metrics`` endpoint, and attach the sink (``wattprint.sinks.attach``)."""

    name = "prometheus"
    settings_keys: tuple[str, ...] = ("prometheus_port", "prometheus_addr")
    """The settings :meth:`from_settings` reads (two sinks made from the same values are the same exporter)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.totals = Totals()
        self.collector = WattprintCollector(self.totals)
        self.registry = registry if registry is not None else CollectorRegistry()
        self.registry.register(self.collector)
        self.server: MetricsServer | None = None
        """The ``/metrics`` endpoint serving this sink, when :meth:`from_settings` started one."""

    @classmethod
    def from_settings(cls, settings: Settings) -> PrometheusSink:
        """The sink of the ``exporters`` setting, served on ``/metrics`` at ``prometheus_addr:prometheus_port``."""
        sink = cls()
        try:
            sink.server = start_http_server(settings.prometheus_port, settings.prometheus_addr, sink=sink)
        except OSError as error:
            raise OSError(f"cannot serve /metrics on {settings.prometheus_addr}:{settings.prometheus_port} ({error}); "
                          "choose another port with prometheus_port (WATTPRINT_PROMETHEUS_PORT)") from error
        return sink

    def stop(self) -> None:
        """Stop the endpoint :meth:`from_settings` started (and detach the sink)."""
        if self.server is not None:
            self.server.close()
            self.server = None

    def open(self) -> None:
        pass

    def write(self, payload: Payload) -> None:
        self.totals.add(payload)

    def close(self) -> None:
        pass


@sinks.register
class TextfileSink(PrometheusSink):
    """The figures written, at every flush, to a ``.prom`` file that node_exporter's textfile collector reads
    (``--collector.textfile.directory``); the file is replaced whole, never seen half-written."""

    name = "prometheus-textfile"
    settings_keys = ("prometheus_textfile",)

    @classmethod
    def from_settings(cls, settings: Settings) -> TextfileSink:
        """The sink of the ``exporters`` setting, writing to ``prometheus_textfile``."""
        if settings.prometheus_textfile is None:
            from wattprint.core.errors import ConfigError

            raise ConfigError("the prometheus-textfile exporter needs the file to write: set prometheus_textfile "
                              "(WATTPRINT_PROMETHEUS_TEXTFILE), e.g. /var/lib/node_exporter/textfile/wattprint.prom")
        return cls(settings.prometheus_textfile)

    def __init__(self, path: str | os.PathLike[str]) -> None:
        from wattprint.core.errors import ConfigError

        self.path = os.fspath(path)
        if not self.path.endswith(".prom"):
            raise ConfigError(f"Prometheus textfile {self.path!r}: node_exporter reads only files ending in .prom; "
                              "name it e.g. wattprint.prom")
        super().__init__()

    def open(self) -> None:
        directory = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(directory):
            raise FileNotFoundError(f"the directory of the Prometheus textfile {self.path!r} does not exist")

    def write(self, payload: Payload) -> None:
        self.totals.add(payload)
        write_to_textfile(self.path, self.registry)


class _RunCollector(Collector):
    """One run's figures, as pushed to a Pushgateway."""

    def __init__(self, figures: Figures) -> None:
        self.figures = figures

    def collect(self) -> Iterator[Metric]:
        return iter(_families(self.figures))


def run_figures(run: RunFigures) -> Figures:
    """One run's figures in the shape of the process's: the counters are the run's totals."""
    record = run.run
    return Figures(
        devices=run.devices, energy_j=record.energy_j, emissions_g=record.emissions_g,
        emissions_uncertainty_rel=record.emissions_uncertainty_rel, intensity_g_per_kwh=record.intensity_g_per_kwh,
        intensity_zone=record.intensity_zone, intensity_source=record.intensity_source, hostname=record.hostname,
        runs_running=1 if record.status == "running" else 0, runs_ended=0 if record.status == "running" else 1)


@sinks.register
class PushgatewaySink:
    """Each run pushed to a Prometheus Pushgateway at every flush, for batch jobs that end before a scrape: the
    run's own totals, grouped by ``job``, ``instance`` (the host) and ``run_id`` (the one place a run id is a
    label: a group per run, which the Pushgateway keeps until it is deleted). Sent from the sink's own thread."""

    name = "prometheus-pushgateway"
    settings_keys = ("pushgateway_url", "pushgateway_job")

    @classmethod
    def from_settings(cls, settings: Settings) -> PushgatewaySink:
        """The sink of the ``exporters`` setting, pushing to ``pushgateway_url`` as ``pushgateway_job``."""
        if settings.pushgateway_url is None:
            from wattprint.core.errors import ConfigError

            raise ConfigError("the prometheus-pushgateway exporter needs the Pushgateway's URL: set pushgateway_url "
                              "(WATTPRINT_PUSHGATEWAY_URL), e.g. http://pushgateway:9091")
        return cls(settings.pushgateway_url, settings.pushgateway_job)

    def __init__(self, gateway: str, job: str = "wattprint", *, timeout_s: float = 10.0,
                 close_timeout_s: float = 10.0) -> None:
        self.gateway = gateway
        self.job = job
        self.timeout_s = timeout_s
        self.close_timeout_s = close_timeout_s
        self.totals = Totals()
        self._sender: Sender | None = None

    def open(self) -> None:
        self._sender = Sender(self.name)

    def write(self, payload: Payload) -> None:
        figures = run_figures(self.totals.add(payload))
        record = payload.run
        grouping = {"instance": record.hostname, "run_id": record.run_id}
        sender = self._sender
        assert sender is not None, "the writer opens a sink before writing to it"
        sender.submit(lambda: self._push(figures, grouping))

    def _push(self, figures: Figures, grouping: dict[str, str]) -> None:
        registry = CollectorRegistry()
        registry.register(_RunCollector(figures))
        push_to_gateway(self.gateway, job=self.job, registry=registry, grouping_key=grouping, timeout=self.timeout_s)

    def close(self) -> None:
        """Push what is queued (waiting at most ``close_timeout_s``)."""
        if self._sender is not None:
            self._sender.drain(self.close_timeout_s)
        self._sender = None


class MetricsServer:
    """A running ``/metrics`` endpoint and its attached sink (None: it serves a registry of its own, as the agent's
    does); ``close()`` (or leaving ``with``) stops both."""

    def __init__(self, sink: PrometheusSink | None, server: Any, thread: Any) -> None:
        self.sink = sink
        self._server = server
        self._thread = thread
        self.host, self.port = server.server_address[:2]

    @property
    def url(self) -> str:
        """Where to scrape."""
        return f"http://{self.host}:{self.port}/metrics"

    def close(self) -> None:
        if self.sink is not None:
            sinks.detach(self.sink)
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5.0)

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_http_server(port: int, addr: str = "127.0.0.1", *, sink: PrometheusSink | None = None) -> MetricsServer:
    """Serve ``/metrics`` on ``addr:port`` from a background thread and attach its sink, so every run of this
    process shows there. Loopback by default; ``addr="0.0.0.0"`` lets a Prometheus on another host scrape it.
    ``port=0`` picks a free port (``server.port``)."""
    import prometheus_client

    sink = sink if sink is not None else PrometheusSink()
    server, thread = prometheus_client.start_http_server(port, addr=addr, registry=sink.registry)
    sinks.attach(sink)
    return MetricsServer(sink, server, thread)


class MetricsApp:
    """An ASGI app serving the figures of its attached sink (``app.sink``; ``app.close()`` detaches it)."""

    def __init__(self, sink: PrometheusSink) -> None:
        import prometheus_client

        self.sink = sink
        self._app = prometheus_client.make_asgi_app(registry=sink.registry)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self._app(scope, receive, send)

    def close(self) -> None:
        sinks.detach(self.sink)


def make_asgi_app(sink: PrometheusSink | None = None) -> MetricsApp:
    """An ASGI app to mount at ``/metrics`` in FastAPI or Starlette (``app.mount("/metrics", make_asgi_app())``);
    its sink is attached at once, so every run of this process shows there."""
    app = MetricsApp(sink if sink is not None else PrometheusSink())
    sinks.attach(app.sink)
    return app
