"""Result types: plain frozen dataclasses with the unit in every field name.

A measurement is split by component (``cpu``, ``gpu``, ``ram``, ``platform``) and by device (``package-0``,
``gpu:1``, ...). Every figure carries the method that produced it and a relative uncertainty (one standard
uncertainty, as a fraction of the value), so an estimate is never shown as a measurement.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace

from wattprint.core.methods import (  # noqa: F401 - re-exported: results are where users look for them
    COUNTER,
    IMPORTED,
    METHODS,
    MODEL,
    SAMPLED,
    DeviceInfo,
    weakest_method,
)
from wattprint.core.units import J_PER_KWH  # noqa: F401 - re-exported with the result types

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.accounting.equivalents import Equivalent
    from wattprint.accounting.footprint import Footprint
    from wattprint.carbon import Intensity
    from wattprint.carbon.live import TimeResolved
    from wattprint.predict.prediction import Prediction
    from wattprint.run.request_figures import InferenceResult

@dataclass(frozen=True)
class DeviceEnergy:
    """Energy of one device (a RAPL zone, a GPU, the modelled CPU) over a window; stored as it is (the wire
    format's ``ComponentRecord`` is this class, so a result and its stored row cannot drift apart)."""

    component: str
    device: str
    energy_j: float
    avg_power_w: float
    method: str
    uncertainty_rel: float

    @property
    def energy_kwh(self) -> float:
        return self.energy_j / J_PER_KWH


@dataclass(frozen=True)
class ComponentEnergy:
    """Energy of one component (all its devices) over a window."""

    component: str
    energy_j: float
    avg_power_w: float
    method: str
    uncertainty_rel: float
    devices: tuple[str, ...]

    @property
    def energy_kwh(self) -> float:
        return self.energy_j / J_PER_KWH


@dataclass(frozen=True, kw_only=True, repr=False)
class WindowResult:
    """Energy over one measurement window: a task, an epoch, or a whole run.

    ``str()`` is the summary a person reads (for a run, what ``wattprint show`` prints); ``repr()`` is one short
    line; ``to_dict()`` has every figure.
    """

    name: str
    started_at: float
    """Unix time (s) at the start of the window."""
    duration_s: float
    energy_j: float
    uncertainty_rel: float
    attribution: str
    components: Mapping[str, ComponentEnergy]
    devices: tuple[DeviceEnergy, ...]
    footprint: Footprint | None = None
    """Facility energy, emissions, water and the intensity used (None when carbon accounting is off)."""

    @property
    def energy_kwh(self) -> float:
        return self.energy_j / J_PER_KWH

    @property
    def emissions_g(self) -> float | None:
        """Operational emissions, g CO2e: energy x PUE x grid intensity."""
        return self.footprint.emissions_g if self.footprint else None

    @property
    def emissions_uncertainty_rel(self) -> float | None:
        return self.footprint.emissions_uncertainty_rel if self.footprint else None

    @property
    def facility_energy_kwh(self) -> float | None:
        return self.footprint.facility_energy_kwh if self.footprint else None

    @property
    def pue(self) -> float | None:
        return self.footprint.pue if self.footprint else None

    @property
    def water_l(self) -> float | None:
        return self.footprint.water_l if self.footprint else None

    @property
    def intensity(self) -> Intensity | None:
        """The grid intensity used, with its source, year and how the location was decided."""
        return self.footprint.intensity if self.footprint else None

    @property
    def equivalents(self) -> list[Equivalent]:
        """The emissions in everyday terms (smartphone charges, km by car, ...), with factor vintages."""
        return self.footprint.equivalents if self.footprint is not None else []

    @property
    def avg_power_w(self) -> float:
        return self.energy_j / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def method(self) -> str:
        """The least direct method among the components that contributed energy."""
        return _overall_method(self.components.values())

    def __str__(self) -> str:
        from wattprint.report.summary import result_text  # the one summary, shared with `wattprint show`

        return result_text(self)

    def __repr__(self) -> str:
        from wattprint.report.summary import result_repr

        return result_repr(self)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, derived figures (``energy_kwh``, ``avg_power_w``, ``method``) included."""
        inference = getattr(self, "inference", None)  # its requests are not copied: it gives its own dict
        data = asdict(replace(self, inference=None) if inference is not None else self)  # type: ignore[call-arg]
        data.pop("footprint", None)
        footprint = self.footprint
        data["facility_energy_kwh"] = footprint.facility_energy_kwh if footprint else None
        data["pue"] = footprint.pue if footprint else None
        data["emissions_g"] = footprint.emissions_g if footprint else None
        data["emissions_uncertainty_rel"] = footprint.emissions_uncertainty_rel if footprint else None
        data["water_l"] = footprint.water_l if footprint else None
        data["intensity"] = footprint.intensity.to_dict() if footprint else None
        data["equivalents"] = [asdict(e) for e in self.equivalents]
        data["footprint"] = footprint.to_dict() if footprint else None
        data["components"] = {
            name: {**asdict(c), "energy_kwh": c.energy_kwh} for name, c in self.components.items()
        }
        data["devices"] = [{**asdict(d), "energy_kwh": d.energy_kwh} for d in self.devices]
        data["energy_kwh"] = self.energy_kwh
        data["avg_power_w"] = self.avg_power_w
        data["method"] = self.method if self.components else None
        if isinstance(self, RunResult):
            data["tasks"] = [task.to_dict() for task in self.tasks]
            data["time_resolved"] = self.time_resolved.to_dict() if self.time_resolved is not None else None
            data["inference"] = inference.to_dict() if inference is not None else None
        return data


@dataclass(frozen=True, kw_only=True, repr=False)
class RunResult(WindowResult):
    """A whole tracked run: the window totals plus identity, hardware, notes and the tasks measured in it."""

    run_id: str
    project: str | None
    status: str
    """``running`` (a live snapshot), ``finished`` or ``failed`` (the tracked code raised)."""
    hardware: tuple[DeviceInfo, ...] = ()
    notes: tuple[str, ...] = ()
    """Plain-language remarks on how the figures were obtained: fallbacks, missing permissions, and fixes."""
    tasks: tuple[WindowResult, ...] = field(default=())
    predictions: tuple[Prediction, ...] = ()
    """Predictions of the whole training's totals made at its epoch (or step) boundaries, oldest first."""
    config_fingerprint: str | None = None
    """SHA-256 of the run's hyperparameters and code version (None when no hyperparameters were given)."""
    time_resolved: TimeResolved | None = None
    """Emissions priced interval by interval with a live provider's intensities, beside (never instead of) the
    location-based ``footprint``; None unless ``intensity_provider`` is set (docs/live.md)."""
    inference: InferenceResult | None = None
    """The requests the run served (``run.request(...)``): energy per request, per token, per 1,000 requests, over
    the steady state and the whole run (docs/inference.md); None when it served none."""

    @property
    def gpu_count(self) -> int:
        return sum(1 for info in self.hardware if info.component == "gpu")


def device_energy(
    component: str,
    device: str,
    energy_by_method: Mapping[str, float],
    uncertainty_by_method: Mapping[str, float],
    duration_s: float,
) -> DeviceEnergy:
    """Combine the energy a device measured with one or more methods (a sensor can fall back mid-window)."""
    total = sum(energy_by_method.values())
    used = [m for m, e in energy_by_method.items() if e > 0] or list(energy_by_method) or [MODEL]
    method = weakest_method(used)
    if len(used) == 1:
        uncertainty = uncertainty_by_method[used[0]]
    elif total > 0:
        absolute = sum(e * uncertainty_by_method[m] for m, e in energy_by_method.items())
        uncertainty = absolute / total
    else:
        uncertainty = max(uncertainty_by_method[m] for m in used)
    return DeviceEnergy(
        component=component,
        device=device,
        energy_j=total,
        avg_power_w=total / duration_s if duration_s > 0 else 0.0,
        method=method,
        uncertainty_rel=uncertainty,
    )


def aggregate(devices: Iterable[DeviceEnergy], duration_s: float) -> tuple[dict[str, ComponentEnergy], float]:
    """Per-component totals and the overall relative uncertainty.

    Devices of one component share their error source (the same model, the same kind of counter), so their
    absolute uncertainties add linearly; components are independent, so theirs add in quadrature.
    """
    grouped: dict[str, list[DeviceEnergy]] = {}
    for d in devices:
        grouped.setdefault(d.component, []).append(d)
    components: dict[str, ComponentEnergy] = {}
    variance = 0.0
    total = 0.0
    for name in sorted(grouped):
        members = grouped[name]
        energy = sum(d.energy_j for d in members)
        absolute = sum(d.energy_j * d.uncertainty_rel for d in members)
        used = [d.method for d in members if d.energy_j > 0] or [d.method for d in members]
        components[name] = ComponentEnergy(
            component=name,
            energy_j=energy,
            avg_power_w=energy / duration_s if duration_s > 0 else 0.0,
            method=weakest_method(used),
            uncertainty_rel=absolute / energy if energy > 0 else max(d.uncertainty_rel for d in members),
            devices=tuple(d.device for d in members),
        )
        variance += absolute**2
        total += energy
    overall = math.sqrt(variance) / total if total > 0 else 0.0
    return components, overall


def _overall_method(components: Iterable[ComponentEnergy]) -> str:
    items = list(components)
    used = [c.method for c in items if c.energy_j > 0] or [c.method for c in items]
    return weakest_method(used) if used else MODEL
