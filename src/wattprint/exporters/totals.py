"""The process's running figures, folded from every payload of every run: what an exporter shows at scrape time.

Energy and emissions only grow: a run's payloads carry absolute totals, a finished run's totals are kept, and a
re-priced run that came out lower keeps the higher figure (a counter never goes down). Power is the energy added
between a run's two latest payloads over the time between them, for runs still running only.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from wattprint.core.units import J_PER_KWH

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wattprint.api.prediction import PredictionRecord
    from wattprint.api.records import RunRecord
    from wattprint.sinks.payload import Payload

DeviceKey = tuple[str, str, str]
"""(component, device, method): one series of energy and power."""


@dataclass(frozen=True)
class DeviceFigures:
    """One device's figures over every run of the process: energy so far, and its power now (None when no run
    measuring it is running)."""

    component: str
    device: str
    method: str
    energy_j: float
    uncertainty_rel: float
    power_w: float | None


@dataclass(frozen=True)
class Figures:
    """Everything an exporter shows, at one instant."""

    devices: tuple[DeviceFigures, ...]
    energy_j: float
    emissions_g: float | None
    """None until a run has been priced (no carbon accounting yet)."""
    emissions_uncertainty_rel: float | None
    intensity_g_per_kwh: float | None
    intensity_zone: str | None
    intensity_source: str | None
    hostname: str | None
    runs_running: int
    runs_ended: int


@dataclass(frozen=True)
class RunFigures:
    """One run's latest state, as the exporters that log per run (MLflow) need it."""

    run: RunRecord
    devices: tuple[DeviceFigures, ...]
    power_w: float | None
    prediction: PredictionRecord | None

    def metrics(self, component_key: str) -> list[tuple[str, float]]:
        """The run's totals so far as (name, value): energy, duration, emissions, power, and the energy of each
        component it used, named by ``component_key`` (``{component}`` replaced)."""
        record = self.run
        values = [("energy_kwh", record.energy_j / J_PER_KWH), ("duration_s", record.duration_s)]
        if record.emissions_g is not None:
            values.append(("emissions_g", record.emissions_g))
        if self.power_w is not None:
            values.append(("power_w", self.power_w))
        by_component: dict[str, float] = {}
        for device in self.devices:
            by_component[device.component] = by_component.get(device.component, 0.0) + device.energy_j
        values += [(component_key.format(component=component), energy_j / J_PER_KWH)
                   for component, energy_j in sorted(by_component.items())]
        return values

    def described(self) -> dict[str, object]:
        """How the figures were obtained (``method``: each component's methods) and where and how the run was
        priced; keys without a value are left out."""
        record = self.run
        by_component: dict[str, set[str]] = {}
        for device in self.devices:
            by_component.setdefault(device.component, set()).add(device.method)
        found: dict[str, object] = {
            "run_id": record.run_id, "attribution": record.attribution,
            "method": ", ".join(f"{c}={'+'.join(sorted(m))}" for c, m in sorted(by_component.items())),
            "energy_uncertainty_rel": record.energy_uncertainty_rel, "project": record.project,
            "location": record.location, "how_located": record.how_located, "intensity_zone": record.intensity_zone,
            "intensity_source": record.intensity_source, "intensity_g_per_kwh": record.intensity_g_per_kwh,
            "pue": record.pue, "emissions_uncertainty_rel": record.emissions_uncertainty_rel,
        }
        return {key: value for key, value in found.items() if value is not None and value != ""}


class _Run:
    __slots__ = ("energy", "power", "duration_s", "emissions_g")

    def __init__(self) -> None:
        self.energy: dict[DeviceKey, float] = {}
        self.power: dict[DeviceKey, float] = {}
        self.duration_s = 0.0
        self.emissions_g = 0.0


class Totals:
    """Folds payloads (``add``, from the writer thread) into figures read at any time, from any thread
    (``figures``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, _Run] = {}
        self._retired_energy: dict[DeviceKey, float] = {}
        self._uncertainty: dict[DeviceKey, float] = {}  # each device's latest
        self._retired_emissions_g = 0.0
        self._retired_emissions: dict[str, float] = {}  # an ended run's emissions, in case it is re-priced
        self._latest: RunRecord | None = None
        self._intensity: RunRecord | None = None
        self._priced = False

    def add(self, payload: Payload) -> RunFigures:
        """Take one payload; returns the run's figures after it."""
        record = payload.run
        with self._lock:
            if record.run_id in self._retired_emissions:
                return self._repriced(payload)
            run = self._runs.setdefault(record.run_id, _Run())
            elapsed = record.duration_s - run.duration_s
            for device in payload.components:
                key = (device.component, device.device, device.method)
                before = run.energy.get(key)
                energy_j = max(device.energy_j, before or 0.0)
                if before is None or elapsed <= 0:
                    run.power[key] = device.avg_power_w
                else:
                    run.power[key] = (energy_j - before) / elapsed
                run.energy[key] = energy_j
                self._uncertainty[key] = device.uncertainty_rel
            run.duration_s = max(run.duration_s, record.duration_s)
            run.emissions_g = max(run.emissions_g, record.emissions_g or 0.0)
            self._priced = self._priced or record.emissions_g is not None
            self._latest = record
            if record.intensity_g_per_kwh is not None:
                self._intensity = record
            figures = self._run_figures(payload, run)
            if record.status != "running":
                self._retire(record.run_id, run)
            return figures

    def _retire(self, run_id: str, run: _Run) -> None:
        """Fold an ended run into the kept totals: it then costs one number (its emissions, in case it is
        re-priced), not a figure per device."""
        for key, energy_j in run.energy.items():
            self._retired_energy[key] = self._retired_energy.get(key, 0.0) + energy_j
        self._retired_emissions_g += run.emissions_g
        self._retired_emissions[run_id] = run.emissions_g
        del self._runs[run_id]

    def _repriced(self, payload: Payload) -> RunFigures:
        """A run's save after its end (re-priced with a live intensity that came late): only emissions change."""
        record = payload.run
        before = self._retired_emissions[record.run_id]
        if record.emissions_g is not None and record.emissions_g > before:
            self._retired_emissions_g += record.emissions_g - before
            self._retired_emissions[record.run_id] = record.emissions_g
        return self._run_figures(payload, None)

    @staticmethod
    def _run_figures(payload: Payload, run: _Run | None) -> RunFigures:
        record = payload.run
        running = run is not None and record.status == "running"
        devices = tuple(
            DeviceFigures(d.component, d.device, d.method, d.energy_j, d.uncertainty_rel,
                          run.power.get((d.component, d.device, d.method)) if running and run else None)
            for d in payload.components
        )
        powers = [d.power_w for d in devices if d.power_w is not None]
        predictions = record.details.predictions if record.extra else ()
        return RunFigures(record, devices, sum(powers) if powers else None, predictions[-1] if predictions else None)

    def figures(self) -> Figures:
        """The process's figures now: every run's energy and emissions so far, and the power of running runs."""
        with self._lock:
            energy = dict(self._retired_energy)
            uncertainty = dict(self._uncertainty)
            power: dict[DeviceKey, float] = {}
            emissions_g = self._retired_emissions_g
            for run in self._runs.values():
                emissions_g += run.emissions_g
                for key, energy_j in run.energy.items():
                    energy[key] = energy.get(key, 0.0) + energy_j
                    power[key] = power.get(key, 0.0) + run.power[key]
            latest, priced = self._latest, self._intensity
            running, ended, priced_any = len(self._runs), len(self._retired_emissions), self._priced
        devices = tuple(
            DeviceFigures(*key, energy[key], uncertainty.get(key, 0.0), power.get(key)) for key in sorted(energy)
        )
        return Figures(
            devices=devices,
            energy_j=sum(energy.values()),
            emissions_g=emissions_g if priced_any else None,
            emissions_uncertainty_rel=latest.emissions_uncertainty_rel if latest is not None else None,
            intensity_g_per_kwh=priced.intensity_g_per_kwh if priced is not None else None,
            intensity_zone=priced.intensity_zone if priced is not None else None,
            intensity_source=priced.intensity_source if priced is not None else None,
            hostname=latest.hostname if latest is not None else None,
            runs_running=running,
            runs_ended=ended,
        )
