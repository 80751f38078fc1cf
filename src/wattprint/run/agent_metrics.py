"""What the machine agent shows: Prometheus metric families read at scrape time from its latest reading (served
on ``/metrics``), the same over OTLP (the OpenTelemetry exporter's instruments observing the reading), and the
JSON line of a reading for scripts (``wattprint agent --json``). Names follow
Prometheus's conventions (base units, ``_total`` counters); process trees and control groups are labelled only
for the top N the agent was asked for, so the series stay few."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.exporters.prometheus import MetricsServer
    from wattprint.run.agent import Agent, Reading

__all__ = ["AGENT_METRICS", "ReadingFigures", "families", "otlp", "reading_json", "serve"]

AGENT_METRICS = {
    "wattprint_machine_energy_joules_total": "Energy of each device of the machine since the agent started (J).",
    "wattprint_machine_power_watts": "Power of each device of the machine over the agent's latest interval (W).",
    "wattprint_machine_energy_uncertainty_ratio": "Relative uncertainty of each device's energy (0.05: ±5 %).",
    "wattprint_machine_emissions_grams_total": "Emissions of the machine since the agent started, PUE included "
                                               "(g CO2e).",
    "wattprint_grid_intensity_grams_per_kilowatt_hour": "Grid carbon intensity the figures are priced with.",
    "wattprint_agent_interval_seconds": "Seconds between the agent's two latest readings (the window of power).",
    "wattprint_process_energy_joules_total": "Energy charged to each of the top process trees since the agent "
                                             "first saw it: its share of CPU time and memory in use (J).",
    "wattprint_process_power_watts": "Power charged to each of the top process trees over the latest interval (W).",
    "wattprint_cgroup_energy_joules_total": "Energy charged to each of the top control groups since the agent "
                                            "first saw it: its share of CPU time and memory in use (J).",
    "wattprint_cgroup_power_watts": "Power charged to each of the top control groups over the latest interval (W).",
}
"""Every sample name the agent emits, with its help text: what dashboards and alerts may query."""

DEVICE_LABELS = ("component", "device", "method")
SHARE_BASIS = {"ram": "memory"}
"""How a unit's share of a component is decided (``cpu_time`` for the others): the ``share`` label."""


def families(reading: Reading | None) -> list[Any]:
    """The metric families of ``reading`` (None: empty ones, for a scrape before the first reading)."""
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    def counter(name: str, labels: tuple[str, ...] = ()) -> Any:
        return CounterMetricFamily(name.removesuffix("_total"), AGENT_METRICS[name], labels=labels)

    def gauge(name: str, labels: tuple[str, ...] = ()) -> Any:
        return GaugeMetricFamily(name, AGENT_METRICS[name], labels=labels)

    energy = counter("wattprint_machine_energy_joules_total", DEVICE_LABELS)
    power = gauge("wattprint_machine_power_watts", DEVICE_LABELS)
    uncertainty = gauge("wattprint_machine_energy_uncertainty_ratio", DEVICE_LABELS)
    emissions = counter("wattprint_machine_emissions_grams_total")
    intensity = gauge("wattprint_grid_intensity_grams_per_kilowatt_hour", ("zone", "source"))
    interval = gauge("wattprint_agent_interval_seconds")
    unit_labels = {"process": ("pid", "command", "component", "share"), "cgroup": ("cgroup", "component", "share")}
    unit_energy = {kind: counter(f"wattprint_{kind}_energy_joules_total", labels)
                   for kind, labels in unit_labels.items()}
    unit_power = {kind: gauge(f"wattprint_{kind}_power_watts", labels) for kind, labels in unit_labels.items()}
    found = [energy, power, uncertainty, emissions, intensity, interval, *unit_energy.values(), *unit_power.values()]
    if reading is None:
        return found
    for device in reading.devices:
        labels = [device.component, device.device, device.method]
        energy.add_metric(labels, device.energy_j)
        power.add_metric(labels, device.power_w)
        uncertainty.add_metric(labels, device.uncertainty_rel)
    if reading.emissions_g is not None:
        emissions.add_metric([], reading.emissions_g)
    if reading.intensity_g_per_kwh is not None:
        intensity.add_metric([reading.intensity_zone or "", reading.intensity_source or ""],
                             reading.intensity_g_per_kwh)
    interval.add_metric([], reading.interval_s)
    for unit in reading.units:
        share = SHARE_BASIS.get(unit.component, "cpu_time")
        labels = [unit.key, unit.name, unit.component, share] if unit.kind == "process" else [
            unit.name, unit.component, share]
        unit_energy[unit.kind].add_metric(labels, unit.energy_j)
        unit_power[unit.kind].add_metric(labels, unit.power_w)
    return found


def serve(agent: Agent, port: int, addr: str = "127.0.0.1") -> MetricsServer:
    """Serve the agent's figures on ``addr:port`` (``port=0``: a free one) from a background thread."""
    try:
        import prometheus_client
        from prometheus_client import CollectorRegistry
    except ImportError as error:
        from wattprint.exporters import missing

        raise ImportError(missing("prometheus_client", "prometheus", "wattprint agent's /metrics")) from error
    from prometheus_client.registry import Collector

    class AgentCollector(Collector):
        """Reads the agent's latest reading when scraped."""

        def describe(self) -> Iterator[Any]:
            return iter(families(None))

        def collect(self) -> Iterator[Any]:
            return iter(families(agent.latest()))

    registry = CollectorRegistry()
    registry.register(AgentCollector())
    server, thread = prometheus_client.start_http_server(port, addr=addr, registry=registry)
    from wattprint.exporters.prometheus import MetricsServer

    return MetricsServer(None, server, thread)  # the exporter's endpoint, serving the agent's own registry


class ReadingFigures:
    """The agent's latest reading as the figures the OpenTelemetry exporter observes (``hw.energy``, ``hw.power``
    per device, ``hw.host.*`` for the machine, ``wattprint.emissions``)."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent

    def figures(self) -> Any:
        from wattprint.exporters.totals import DeviceFigures, Figures

        reading = self.agent.latest()
        if reading is None:
            return Figures((), 0.0, None, None, None, None, None, None, 0, 0)
        return Figures(
            devices=tuple(DeviceFigures(d.component, d.device, d.method, d.energy_j, d.uncertainty_rel, d.power_w)
                          for d in reading.devices),
            energy_j=reading.energy_j, emissions_g=reading.emissions_g,
            emissions_uncertainty_rel=reading.emissions_uncertainty_rel,
            intensity_g_per_kwh=reading.intensity_g_per_kwh, intensity_zone=reading.intensity_zone,
            intensity_source=reading.intensity_source, hostname=reading.hostname, runs_running=0, runs_ended=0)


def otlp(agent: Agent, meter_provider: Any = None, *, settings: Any = None) -> Any:
    """An OpenTelemetry exporter of the agent's readings, opened: OTLP/HTTP to the ``otlp_endpoint`` setting every
    ``agent.interval_s`` (or instruments on ``meter_provider``); ``close()`` exports a last time."""
    from wattprint.exporters.opentelemetry import OpenTelemetrySink

    sink = OpenTelemetrySink(meter_provider, export_interval_s=agent.interval_s, settings=settings,
                             source=ReadingFigures(agent))
    sink.open()
    return sink


def reading_json(reading: Reading) -> dict[str, Any]:
    """A reading as the JSON object ``wattprint agent --json`` prints (one line each), with its total power."""
    data = asdict(reading)
    data["power_w"] = reading.power_w
    data["energy_j"] = reading.energy_j
    return data
