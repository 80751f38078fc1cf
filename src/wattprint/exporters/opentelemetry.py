"""OpenTelemetry: every run of the process as metrics of the hardware semantic conventions, through the SDK.

Per device, ``hw.energy`` (a counter, J) and ``hw.power`` (a gauge, W), keyed by ``hw.id`` (``gpu:0``,
``package-0``) and ``hw.type`` (``cpu``, ``gpu``, ``memory``); the sum over the host's devices as
``hw.host.energy`` and ``hw.host.power``, separate names so that nothing is summed twice; and
``wattprint.emissions`` (a counter, g CO2e). They are observed when the SDK's reader collects, from the figures
the payloads left (:mod:`wattprint.exporters.totals`). With no meter provider given, the sink makes one that sends
over OTLP/HTTP to the ``otlp_endpoint`` setting with the ``otlp_headers`` setting.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Protocol
from urllib.parse import unquote

from wattprint import sinks
from wattprint._version import __version__
from wattprint.exporters import missing
from wattprint.exporters.totals import Figures, Totals

try:
    from opentelemetry.metrics import CallbackOptions, Meter, MeterProvider, Observation
except ImportError as error:  # pragma: no cover - the extra is installed wherever the tests run
    raise ImportError(missing("opentelemetry-sdk", "otel", "the OpenTelemetry exporter")) from error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.settings.typed import Settings
    from wattprint.sinks.payload import Payload

__all__ = ["HW_TYPES", "METRICS", "OpenTelemetrySink", "parse_headers"]

HW_TYPES = {"cpu": "cpu", "gpu": "gpu", "ram": "memory"}
"""``hw.type`` of each component; another component (RAPL's ``platform``) is named as it is."""

METRICS = {
    "hw.energy": ("J", "Energy of each device over the runs of this process."),
    "hw.power": ("W", "Power of each device over the latest flush of the runs still running."),
    "hw.host.energy": ("J", "Energy of every device measured on this host over the runs of this process."),
    "hw.host.power": ("W", "Power of every device measured on this host, runs still running."),
    "wattprint.emissions": ("g", "Emissions (CO2e, PUE included) of the runs of this process."),
}
"""Every instrument the sink makes: name -> (unit, description)."""

DEFAULT_EXPORT_INTERVAL_S = 10.0
EXPORT_TIMEOUT_S = 5.0
"""How long one OTLP export may take, retries included."""
CLOSE_TIMEOUT_S = 3.0
"""How long closing the sink's own provider (its last export) may take: it holds up the other sinks meanwhile."""


def parse_headers(text: str) -> dict[str, str]:
    """``name=value`` pairs separated by commas (values percent-decoded, as ``OTEL_EXPORTER_OTLP_HEADERS``)."""
    from wattprint.core.errors import ConfigError

    headers: dict[str, str] = {}
    for number, part in enumerate(text.split(","), 1):
        if not part.strip():
            continue
        name, equals, value = part.partition("=")
        if not equals or not name.strip():
            raise ConfigError(f"otlp_headers: pair {number} is not name=value (the value is not shown); write "
                              "e.g. authorization=Bearer%20TOKEN,x-tenant=ml")
        headers[name.strip().lower()] = unquote(value.strip())
    return headers


class FiguresSource(Protocol):
    """Whatever gives the figures to observe, at each collection."""

    def figures(self) -> Figures: ...


def _metrics_url(endpoint: str) -> str:
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith("/v1/metrics") else endpoint + "/v1/metrics"


@sinks.register
class OpenTelemetrySink:
    """A sink whose figures OpenTelemetry instruments observe at each collection.

    ``meter_provider``: the SDK provider to make the instruments with (yours, with its readers and exporters);
    without one, the sink makes its own, exporting over OTLP/HTTP every ``export_interval_s`` to ``endpoint``
    with ``headers`` (by default the ``otlp_endpoint`` and ``otlp_headers`` settings), and shuts it down (a last
    export) when closed. ``source``: what the instruments observe instead of the runs written to the sink (an
    object with a ``figures()`` method, as the machine agent's readings are).
    """

    name = "opentelemetry"
    settings_keys = ("otlp_endpoint", "otlp_headers")

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenTelemetrySink:
        """The sink of the ``exporters`` setting: OTLP/HTTP to ``otlp_endpoint`` with ``otlp_headers``."""
        return cls(settings=settings)

    def __init__(self, meter_provider: MeterProvider | None = None, *, endpoint: str | None = None,
                 headers: Mapping[str, str] | None = None, export_interval_s: float = DEFAULT_EXPORT_INTERVAL_S,
                 settings: Settings | None = None, source: FiguresSource | None = None) -> None:
        self.totals = Totals()
        self.source: FiguresSource = source if source is not None else self.totals
        """What the instruments observe: the runs' totals by default (the machine agent gives its readings)."""
        self._given = meter_provider
        self._provider: Any = meter_provider
        if meter_provider is None:
            if settings is None:
                from wattprint.settings.typed import load_settings

                settings = load_settings()
            if endpoint is None:
                endpoint = settings.otlp_endpoint
            if headers is None and settings.otlp_headers is not None:
                headers = parse_headers(settings.otlp_headers.reveal())
        self.endpoint = _metrics_url(endpoint) if endpoint else None
        self._headers = dict(headers or {})
        self.export_interval_s = export_interval_s
        if meter_provider is not None:
            self._instrument(meter_provider.get_meter("wattprint", __version__))

    def open(self) -> None:
        if self._given is None and self._provider is None:
            self._provider = self._own_provider()
            self._instrument(self._provider.get_meter("wattprint", __version__))

    def write(self, payload: Payload) -> None:
        self.totals.add(payload)

    def close(self) -> None:
        """A provider the sink made is flushed and shut down (opening again makes a new one); yours is left alone."""
        if self._given is None and self._provider is not None:
            provider, self._provider = self._provider, None
            provider.shutdown(timeout_millis=CLOSE_TIMEOUT_S * 1000.0)

    def _own_provider(self) -> Any:
        try:
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
            from opentelemetry.sdk.metrics import MeterProvider as SdkMeterProvider
            from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
            from opentelemetry.sdk.resources import Resource
        except ImportError as error:
            raise ImportError(missing("opentelemetry-exporter-otlp-proto-http", "otel",
                                      "the OpenTelemetry exporter's OTLP/HTTP export")) from error
        exporter = OTLPMetricExporter(endpoint=self.endpoint, headers=self._headers or None, timeout=EXPORT_TIMEOUT_S)
        reader = PeriodicExportingMetricReader(exporter, export_interval_millis=self.export_interval_s * 1000.0)
        resource = Resource.create({"service.name": "wattprint", "host.name": os.uname().nodename})
        return SdkMeterProvider(metric_readers=[reader], resource=resource)

    def _instrument(self, meter: Meter) -> None:
        """Make the observable instruments on ``meter``; their callbacks read the figures at each collection."""
        observers = {
            "hw.energy": self._device_energy,
            "hw.power": self._device_power,
            "hw.host.energy": self._host_energy,
            "hw.host.power": self._host_power,
            "wattprint.emissions": self._emissions,
        }
        for name, callback in observers.items():
            unit, description = METRICS[name]
            make = meter.create_observable_gauge if name.endswith("power") else meter.create_observable_counter
            make(name, callbacks=[callback], unit=unit, description=description)

    @staticmethod
    def _device_attributes(component: str, device: str, method: str) -> dict[str, str]:
        return {"hw.id": device, "hw.type": HW_TYPES.get(component, component), "wattprint.component": component,
                "wattprint.method": method}

    def _host_attributes(self, figures: Figures) -> dict[str, str]:
        return {"hw.id": figures.hostname or os.uname().nodename}

    def _device_energy(self, options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(d.energy_j, self._device_attributes(d.component, d.device, d.method))
                for d in self.source.figures().devices]

    def _device_power(self, options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(d.power_w, self._device_attributes(d.component, d.device, d.method))
                for d in self.source.figures().devices if d.power_w is not None]

    def _host_energy(self, options: CallbackOptions) -> Iterable[Observation]:
        figures = self.source.figures()
        return [Observation(figures.energy_j, self._host_attributes(figures))] if figures.devices else []

    def _host_power(self, options: CallbackOptions) -> Iterable[Observation]:
        figures = self.source.figures()
        powers = [d.power_w for d in figures.devices if d.power_w is not None]
        return [Observation(sum(powers), self._host_attributes(figures))] if powers else []

    def _emissions(self, options: CallbackOptions) -> Iterable[Observation]:
        figures = self.source.figures()
        return [] if figures.emissions_g is None else [Observation(figures.emissions_g)]
