"""Estimate the energy and footprint of a job without running it (the calculator), or re-price a measured run.

``estimate()`` turns hardware (GPU and CPU models from the embedded TDP tables, or an explicit power), a count,
memory, a utilisation and a duration into IT energy, then prices it with the same accounting as a measured run
(``accounting.footprint.account``): facility energy (PUE), emissions (grid intensity), water (WUE), uncertainty
and everyday equivalents. ``estimate_run()`` prices the IT energy a stored run measured at another location or
PUE. Every figure says what it assumed; the formulas, and how they compare with ML CO2 Impact's and Green
Algorithms', are in docs/estimate.md.

Power of a modelled device is TDP x utilisation, as both published calculators compute it (no idle floor); memory
draws ``RAM_W_PER_GB`` per GB whatever the utilisation. With ``pue=1`` and ``intensity=`` set to a calculator's
figures, the results are that calculator's arithmetic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

from wattprint.core.errors import ConfigError, check_number
from wattprint.core.units import J_PER_KWH
from wattprint.settings.hints import docs, setting
from wattprint.settings.hints import name as _named

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.accounting.equivalents import Equivalent
    from wattprint.accounting.footprint import Footprint
    from wattprint.carbon.intensity import Intensity
    from wattprint.data import CpuSpec, GpuSpec
    from wattprint.store.records import ComponentRecord, RunRecord

__all__ = [
    "DEFAULT_UTILIZATION",
    "HOW_GIVEN",
    "UNCERTAINTY_GIVEN_POWER",
    "UNCERTAINTY_GPU_TDP",
    "Estimate",
    "EstimatedPart",
    "estimate",
    "estimate_run",
    "given_intensity",
]

HOW_GIVEN = "given"
"""The ``how_located`` of an intensity figure the user gave (``intensity=``)."""
DEFAULT_UTILIZATION = 1.0
"""Both published calculators assume devices at their TDP unless told otherwise; so does the estimate."""
UNCERTAINTY_GPU_TDP = 0.40
"""A GPU at TDP x utilisation: board power under load ranges from well below TDP (memory-bound work) to the power
limit, as the CPU TDP model's 40 % (docs/measurement.md)."""
UNCERTAINTY_GIVEN_POWER = 0.10
"""A power the user gives is an average draw they measured or read: the error of averaging it over a whole job,
as for a sampled NVIDIA reading (10 %)."""
MAX_COUNT = 1_000_000


@dataclass(frozen=True)
class EstimatedPart:
    """One line of an estimate: ``count`` devices of one model (or a given power, or memory) and their energy.

    ``power_w`` is the average draw of all ``count`` devices together; ``method`` is ``model`` (TDP x utilisation,
    W per GB), ``given`` (a power the user gave) or, for a re-priced run, the method the run measured with.
    ``basis`` says in one sentence where the power came from.
    """

    component: str
    device: str
    count: int
    power_w: float
    energy_kwh: float
    method: str
    uncertainty_rel: float
    basis: str
    model: str | None = None
    tdp_w: float | None = None
    utilization: float | None = None
    source: str | None = None
    alternative_tdps: tuple[dict[str, Any], ...] = ()
    """``{"source", "tdp_w"}`` of each other source that gives this model a different TDP (``tdp_w`` was chosen)."""
    notes: tuple[str, ...] = ()
    """What the estimate had to decide about this part (a core count beyond the model's, a TDP chosen among
    sources); the estimate's assumptions repeat it."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Estimate:
    """The footprint of estimated (or re-priced) IT energy, with what it assumed.

    ``footprint`` is ``wattprint.accounting.footprint.account()``'s result for ``energy_kwh``; the properties repeat its
    main figures. ``run_id`` and ``measured`` are set when a stored run was re-priced (``measured`` holds the
    run's own location, PUE and emissions).
    """

    duration_s: float
    parts: tuple[EstimatedPart, ...]
    power_w: float
    energy_kwh: float
    energy_uncertainty_rel: float
    footprint: Footprint
    equivalents: tuple[Equivalent, ...]
    assumptions: tuple[str, ...]
    formula: str
    run_id: str | None = None
    measured: dict[str, Any] | None = None

    @property
    def hours(self) -> float:
        return self.duration_s / 3600.0

    @property
    def facility_energy_kwh(self) -> float:
        return self.footprint.facility_energy_kwh

    @property
    def pue(self) -> float:
        return self.footprint.pue

    @property
    def emissions_g(self) -> float:
        return self.footprint.emissions_g

    @property
    def emissions_uncertainty_rel(self) -> float:
        return self.footprint.emissions_uncertainty_rel

    @property
    def water_l(self) -> float | None:
        return self.footprint.water_l

    @property
    def intensity(self) -> Intensity:
        return self.footprint.intensity

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with the keys of ``wattprint show --json`` where they apply, and the assumptions."""
        footprint = self.footprint
        intensity = footprint.intensity
        return {
            "run_id": self.run_id,
            "duration_s": self.duration_s,
            "hours": self.hours,
            "power_w": self.power_w,
            "energy_kwh": self.energy_kwh,
            "energy_uncertainty_rel": self.energy_uncertainty_rel,
            "components": [part.to_dict() for part in self.parts],
            "facility_energy_kwh": footprint.facility_energy_kwh,
            "pue": footprint.pue,
            "pue_source": footprint.pue_source,
            "emissions_g": footprint.emissions_g,
            "emissions_uncertainty_rel": footprint.emissions_uncertainty_rel,
            "water_l": footprint.water_l,
            "wue_source": footprint.wue_source,
            "intensity": intensity_json(intensity),
            "location": intensity.zone if intensity.location_known else None,
            "equivalents": [e.to_dict() for e in self.equivalents],
            "assumptions": list(self.assumptions),
            "formula": self.formula,
            "notes": list(footprint.notes),
            "measured": self.measured,
        }


def intensity_json(intensity: Intensity) -> dict[str, Any]:
    """The ``intensity`` object of ``wattprint show --json``, for an :class:`Intensity`: its one wire shape."""
    from wattprint.api.records import IntensityRecord
    from wattprint.core.codec import from_dict, to_dict

    return to_dict(from_dict(IntensityRecord, intensity.to_dict()))  # the same names, the fields a run keeps


# -- arguments -----------------------------------------------------------------------------------------------------


def _count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_COUNT:
        raise ConfigError(f"{name} must be a whole number from 1 to {MAX_COUNT:,}, got {value!r}")
    return value


def _utilization(name: str, value: object) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1.0 < value <= 100.0:
        raise ConfigError(f"{name} is a fraction from 0 to 1 (0.8 for 80 %), got {value!r}")
    return check_number(name, value, minimum=0.0, maximum=1.0)


def _gpu_spec(name: object) -> GpuSpec:
    from wattprint.data import gpu_specs, lookup_gpu, normalize_gpu_name

    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"gpu must be a GPU model name such as 'A100 SXM4 80GB' or 'T4', got {name!r}")
    spec = lookup_gpu(name)
    if spec is not None:
        return spec
    base = normalize_gpu_name(name).base
    variants = [s for s in gpu_specs() if base and normalize_gpu_name(s.name).base == base]
    if variants:
        listed = ", ".join(f"{s.name!r} ({s.tdp_w:g} W)" for s in variants)
        raise ConfigError(
            f"gpu {name!r} matches several rows of the TDP table with different TDPs: {listed}; name one of them "
            f"(form factor and memory, e.g. 'A100 SXM4 80GB'), or {setting('power_w')} (the power in watts)"
        )
    raise ConfigError(
        f"gpu {name!r} is not in the GPU TDP table{_close([s.name for s in gpu_specs()], name)}; "
        f"{setting('power_w')} (the power in watts) instead"
    )


def _cpu_spec(name: object) -> CpuSpec:
    from wattprint.data import cpu_specs, lookup_cpu

    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"cpu must be a CPU model name such as 'Xeon Gold 6248', got {name!r}")
    spec = lookup_cpu(name)
    if spec is not None:
        return spec
    raise ConfigError(
        f"cpu {name!r} is not in the CPU TDP table (or matches rows with different TDPs)"
        f"{_close([s.name for s in cpu_specs()], name)}; {setting('power_w')} (the power in watts) instead"
    )


def _close(names: Sequence[str], query: str) -> str:
    import difflib

    folded = {n.casefold(): n for n in names}
    close = difflib.get_close_matches(query.casefold(), list(folded), n=4, cutoff=0.6)
    return "; close names: " + ", ".join(repr(folded[c]) for c in close) if close else ""


def given_intensity(g_per_kwh: float, *, uncertainty_rel: float = 0.0, location: Intensity | None = None) -> Intensity:
    """An :class:`Intensity` for a figure the user gave (``how_located="given"``).

    Its uncertainty is the user's to state (default 0, as for a given PUE). With ``location`` (a resolved
    location), the figure replaces that location's, and the location's provider still decides the default PUE.
    """
    from wattprint.carbon.intensity import AVERAGE, Intensity

    value = check_number("intensity", g_per_kwh, minimum=0.0, maximum=5000.0)
    uncertainty = check_number("intensity_uncertainty_rel", uncertainty_rel, minimum=0.0, maximum=10.0)
    source = f"given (intensity={value:g} gCO2e/kWh)"
    if location is None:
        return Intensity(
            g_per_kwh=value, zone=HOW_GIVEN, zone_name="given by the user", source=source, year=None, kind=AVERAGE,
            uncertainty_rel=uncertainty, how_located=HOW_GIVEN, licence="",
        )
    note = f"intensity given by the user instead of {location.zone}'s {location.g_per_kwh:g} gCO2e/kWh"
    return replace(
        location, g_per_kwh=value, source=source, year=None, kind=AVERAGE, uncertainty_rel=uncertainty,
        how_located=HOW_GIVEN, licence="", cfe_share=None, notes=(*location.notes, note),
    )


def _where(location: str | None, intensity: float | None, intensity_uncertainty_rel: float) -> Intensity:
    from wattprint.carbon import locate, resolve_location

    if intensity is None:
        return locate(location)
    resolved = resolve_location(location) if location is not None else None
    return given_intensity(intensity, uncertainty_rel=intensity_uncertainty_rel, location=resolved)


# -- the calculator ------------------------------------------------------------------------------------------------


def estimate(
    *,
    hours: float | None = None,
    duration_s: float | None = None,
    gpu: str | None = None,
    cpu: str | None = None,
    count: int | None = None,
    gpu_count: int | None = None,
    cpu_count: int | None = None,
    cpu_cores: int | None = None,
    power_w: float | None = None,
    memory_gb: float | None = None,
    utilization: float | None = None,
    gpu_utilization: float | None = None,
    cpu_utilization: float | None = None,
    cpu_tdp_w: float | None = None,
    location: str | None = None,
    intensity: float | None = None,
    intensity_uncertainty_rel: float = 0.0,
    pue: float | None = None,
    wue: float | None = None,
) -> Estimate:
    """The energy, emissions and water of a job described by its hardware and duration, without running it.

    Hardware: ``gpu`` and/or ``cpu`` by model name (matched in the embedded TDP tables; an unknown or ambiguous
    name is an error listing close names), or ``power_w``, the average draw of one device when no model is
    named; ``count`` devices (of the GPU when one is named, else of the CPU, else of ``power_w``;
    ``gpu_count``/``cpu_count`` set each apart); ``cpu_cores`` to count cores instead of whole CPUs (Green
    Algorithms' way: TDP / the model's cores x cores); ``memory_gb`` of memory at 0.3725 W/GB. ``utilization``
    (0-1, default 1: TDP) scales modelled devices; ``gpu_utilization``/``cpu_utilization`` set each apart.
    ``cpu_tdp_w`` is one CPU's TDP in watts, instead of the table's for ``cpu`` (or a CPU of that TDP).
    Duration: ``hours`` or ``duration_s``. Where: ``location`` (country, zone or cloud region; default: the
    configured location, else the world average marked unknown) or ``intensity`` in gCO2e/kWh
    (``how_located="given"``; ±``intensity_uncertainty_rel``, default 0). ``pue`` (default: the provider's for a
    cloud region, else the industry average 1.56) and ``wue`` override the location's.
    """
    duration = _duration(hours, duration_s)
    hours_value = duration / 3600.0
    if power_w is not None and (gpu is not None or cpu is not None or cpu_tdp_w is not None):
        raise ConfigError(f"{_named('power_w').rstrip('=')} replaces a model name: give {_named('gpu')}/"
                          f"{_named('cpu')} or {_named('power_w')}, not both")
    if gpu is None and gpu_count is not None:
        raise ConfigError(f"{_named('gpu_count').rstrip('=')} needs {_named('gpu')} (the model of those GPUs)")
    if cpu is None and cpu_cores is not None:
        raise ConfigError(f"{_named('cpu_cores').rstrip('=')} needs {_named('cpu')} (the model of those CPUs)")
    if cpu is None and cpu_tdp_w is None and cpu_count is not None:
        raise ConfigError(f"{_named('cpu_count').rstrip('=')} needs {_named('cpu')} (the model of those CPUs) or "
                          f"{_named('cpu_tdp_w')} (their TDP)")
    if cpu_count is not None and cpu_cores is not None:
        raise ConfigError("give cpu_count (whole CPUs) or cpu_cores (cores used), not both")
    if power_w is not None and any(u is not None for u in (utilization, gpu_utilization, cpu_utilization)):
        raise ConfigError("utilization scales a model's TDP; power_w is already the average draw, so give one or the "
                          "other")
    memory = 0.0 if memory_gb is None else check_number("memory_gb", memory_gb, minimum=0.0, maximum=1e7)
    if gpu is None and cpu is None and cpu_tdp_w is None and power_w is None and memory <= 0:
        raise ConfigError(f"nothing to estimate: give {_named('gpu')}, {_named('cpu')}, {_named('power_w')} or "
                          f"{_named('memory_gb')}")
    if count is not None:
        count = _count("count", count)
    shared = DEFAULT_UTILIZATION if utilization is None else _utilization("utilization", utilization)

    parts: list[EstimatedPart] = []
    assumptions: list[str] = []
    if gpu is not None:
        spec = _gpu_spec(gpu)
        n = _count("gpu_count", gpu_count) if gpu_count is not None else (count or 1)
        use = shared if gpu_utilization is None else _utilization("gpu_utilization", gpu_utilization)
        power = n * spec.tdp_w * use
        parts.append(EstimatedPart(
            component="gpu", device=spec.name, count=n, power_w=power, energy_kwh=power * hours_value / 1000.0,
            method="model", uncertainty_rel=UNCERTAINTY_GPU_TDP, model=spec.name, tdp_w=spec.tdp_w,
            utilization=use, source=spec.source,
            basis=f"{n} x TDP {spec.tdp_w:g} W ({spec.source}) x utilisation {use:.0%}",
        ))
    if cpu is not None or cpu_tdp_w is not None:
        parts.append(_cpu_part(cpu, cpu_count, cpu_cores, count if gpu is None else None, shared, cpu_utilization,
                               hours_value, tdp_w=cpu_tdp_w))
    if power_w is not None:
        watts = check_number("power_w", power_w, minimum=0.0, maximum=1e8)
        n = count or 1
        parts.append(EstimatedPart(
            component="power", device="given", count=n, power_w=n * watts, energy_kwh=n * watts * hours_value / 1000,
            method="given", uncertainty_rel=UNCERTAINTY_GIVEN_POWER,
            basis=f"{n} x {watts:g} W given (an average draw; not scaled by utilisation)",
        ))
    if memory > 0:
        from wattprint.sensors.model import RAM_W_PER_GB, UNCERTAINTY_RAM

        power = memory * RAM_W_PER_GB
        parts.append(EstimatedPart(
            component="ram", device=f"{memory:g} GB", count=1, power_w=power, energy_kwh=power * hours_value / 1000,
            method="model", uncertainty_rel=UNCERTAINTY_RAM, model=f"{memory:g} GB", source="Green Algorithms",
            basis=f"{memory:g} GB x {RAM_W_PER_GB:g} W/GB (Green Algorithms), whatever the utilisation",
        ))

    if any(p.method == "model" and p.component != "ram" for p in parts):
        defaulted = utilization is None and (gpu_utilization is None or cpu_utilization is None)
        assumptions.append(
            "modelled devices draw TDP x utilisation, as ML CO2 Impact and Green Algorithms compute it (no idle "
            "floor; wattprint's live CPU model adds one of 21 % of TDP)"
            + (f"; utilisation {DEFAULT_UTILIZATION:.0%} unless given, as both calculators assume" if defaulted
               else "")
        )
    where = _where(location, intensity, intensity_uncertainty_rel)
    return _priced(parts, duration, where, pue, wue, assumptions)


def _duration(hours: object, duration_s: object) -> float:
    if (hours is None) == (duration_s is None):
        raise ConfigError(f"give the duration as {_named('hours')} or {_named('duration_s')} (one of them)")
    if hours is not None:
        return check_number("hours", hours, minimum=0.0, maximum=1e6) * 3600.0
    return check_number("duration_s", duration_s, minimum=0.0, maximum=3.6e9)


def _cpu_part(
    model: str | None,
    cpu_count: int | None,
    cpu_cores: int | None,
    count: int | None,
    shared: float,
    cpu_utilization: float | None,
    hours: float,
    *,
    tdp_w: float | None = None,
) -> EstimatedPart:
    from wattprint.sensors.model import UNCERTAINTY_TDP, UNCERTAINTY_TDP_VM

    spec = _cpu_spec(model) if model is not None else None
    if tdp_w is not None:  # the caller's TDP replaces the table's
        from wattprint.data import CpuSpec

        watts = check_number("cpu_tdp_w", tdp_w, minimum=1.0, maximum=10_000.0)
        spec = CpuSpec(name=spec.name if spec else "CPU", tdp_w=watts, cores=spec.cores if spec else None,
                       source="given")
    assert spec is not None
    use = shared if cpu_utilization is None else _utilization("cpu_utilization", cpu_utilization)
    if cpu_cores is not None:
        cores = _count("cpu_cores", cpu_cores)
        if not spec.cores:
            raise ConfigError(
                f"the CPU TDP table has no core count for {spec.name!r}, so cpu_cores cannot be priced; give "
                "cpu_count (whole CPUs) instead"
            )
        per_core = spec.tdp_w / spec.cores
        power = cores * per_core * use
        notes = _tdp_choice(spec) if tdp_w is None else []
        if cores > spec.cores:
            notes.insert(0, f"{cores} cores is more than the {spec.cores} of one {spec.name}: priced as "
                            f"{cores / spec.cores:.3g} CPUs' worth ({cores} x {spec.tdp_w:g} W / {spec.cores}); "
                            f"give {_named('cpu_count')} (whole CPUs) if that is not what was meant")
        return EstimatedPart(
            component="cpu", device=spec.name, count=cores, power_w=power, energy_kwh=power * hours / 1000.0,
            method="model", uncertainty_rel=UNCERTAINTY_TDP_VM, model=spec.name, tdp_w=spec.tdp_w, utilization=use,
            source=spec.source,
            basis=(f"{cores} core(s) x TDP {spec.tdp_w:g} W / {spec.cores} cores ({spec.source}) x utilisation "
                   f"{use:.0%}"),
            alternative_tdps=_alternatives(spec) if tdp_w is None else (), notes=tuple(notes),
        )
    n = _count("cpu_count", cpu_count) if cpu_count is not None else (count or 1)
    power = n * spec.tdp_w * use
    return EstimatedPart(
        component="cpu", device=spec.name, count=n, power_w=power, energy_kwh=power * hours / 1000.0,
        method="model", uncertainty_rel=UNCERTAINTY_TDP, model=spec.name, tdp_w=spec.tdp_w, utilization=use,
        source=spec.source, basis=f"{n} x TDP {spec.tdp_w:g} W ({spec.source}) x utilisation {use:.0%}",
        alternative_tdps=_alternatives(spec) if tdp_w is None else (),
        notes=tuple(_tdp_choice(spec) if tdp_w is None else ()),
    )


def _alternatives(spec: CpuSpec) -> tuple[dict[str, Any], ...]:
    return tuple({"source": source, "tdp_w": watts} for source, watts in spec.alternatives)


def _tdp_choice(spec: CpuSpec) -> list[str]:
    """A sentence saying which TDP was chosen for ``spec`` when sources disagree (none when they agree)."""
    if not spec.alternatives:
        return []
    others = ", ".join(f"{source} gives {watts:g} W" for source, watts in spec.alternatives)
    return [f"sources disagree on the TDP of {spec.name}: {others}; chose {spec.tdp_w:g} W ({spec.source}), "
            f"the table's figure; give {_named('cpu_tdp_w')} to use another"]


def _energy_uncertainty(parts: Sequence[EstimatedPart]) -> float:
    """Parts are independent (different models), so their absolute uncertainties add in quadrature; the devices
    of one part share one model, so the part's relative uncertainty applies to all of them."""
    total = sum(p.energy_kwh for p in parts)
    if total <= 0:
        return max((p.uncertainty_rel for p in parts), default=0.0)
    return math.sqrt(sum((p.energy_kwh * p.uncertainty_rel) ** 2 for p in parts)) / total


FORMULA = (
    "energy_kwh = sum(count x TDP_w x utilisation, or count x power_w) x hours / 1000 + memory_gb x 0.3725 W/GB x "
    "hours / 1000; facility_energy_kwh = energy_kwh x PUE; emissions_g = facility_energy_kwh x intensity_g_per_kwh; "
    "water_l = energy_kwh x WUE"
)


def _priced(
    parts: Sequence[EstimatedPart],
    duration_s: float,
    where: Intensity,
    pue: float | None,
    wue: float | None,
    assumptions: list[str],
    *,
    formula: str = FORMULA,
    run_id: str | None = None,
    measured: dict[str, Any] | None = None,
    energy_kwh: float | None = None,
    energy_uncertainty_rel: float | None = None,
) -> Estimate:
    from wattprint.accounting.equivalents import equivalents
    from wattprint.accounting.footprint import account

    energy = sum(p.energy_kwh for p in parts) if energy_kwh is None else energy_kwh
    uncertainty = _energy_uncertainty(parts) if energy_uncertainty_rel is None else energy_uncertainty_rel
    footprint = account(energy, uncertainty, where, pue=pue, wue=wue, duration_s=duration_s)
    for part in parts:
        assumptions.append(f"{part.component}: {part.basis}; {part.method}, ±{part.uncertainty_rel:.0%}")
        assumptions.extend(f"{part.component}: {note}" for note in part.notes)
    assumptions.append(f"PUE {footprint.pue:g}: {footprint.pue_source}")
    assumptions.append(f"grid intensity {where.describe()}")
    if footprint.wue_l_per_kwh is not None:
        assumptions.append(f"WUE {footprint.wue_l_per_kwh:g} L/kWh: {footprint.wue_source}")
    assumptions.append(
        "uncertainty: components add in quadrature, then energy, PUE and intensity combine in quadrature "
        f"({docs('estimate')})"
    )
    hours = duration_s / 3600.0
    return Estimate(
        duration_s=duration_s,
        parts=tuple(parts),
        power_w=energy * 1000.0 / hours if hours > 0 else sum(p.power_w for p in parts),
        energy_kwh=energy,
        energy_uncertainty_rel=uncertainty,
        footprint=footprint,
        equivalents=tuple(equivalents(footprint.emissions_g)),
        assumptions=tuple(assumptions),
        formula=formula,
        run_id=run_id,
        measured=measured,
    )


# -- re-pricing a measured run -------------------------------------------------------------------------------------


def estimate_run(
    run: RunRecord,
    components: Sequence[ComponentRecord] = (),
    *,
    location: str | None = None,
    intensity: float | None = None,
    intensity_uncertainty_rel: float = 0.0,
    pue: float | None = None,
    wue: float | None = None,
) -> Estimate:
    """The IT energy a stored run measured, priced at ``location`` (or a given ``intensity``) and ``pue``.

    ``run`` and ``components`` are store records (``open_store().run(ref)``, ``.components(run_id)``). Without
    ``location`` or ``intensity`` the run's own location is used (priced with today's tables); the PUE is the new
    location's default unless ``pue`` is given. ``measured`` in the result keeps the run's own figures.
    """
    energy = run.energy_j / J_PER_KWH
    models = {(h.get("component"), h.get("device")): h.get("model") for h in run.hardware if isinstance(h, dict)}
    parts = [
        EstimatedPart(
            component=c.component, device=c.device, count=1, power_w=c.avg_power_w, energy_kwh=c.energy_j / J_PER_KWH,
            method=c.method, uncertainty_rel=c.uncertainty_rel, model=models.get((c.component, c.device)),
            basis=f"measured in run {run.run_id[:12]} ({c.method})",
        )
        for c in components
    ]
    if location is None and intensity is None and run.location:
        location = run.location
    where = _where(location, intensity, intensity_uncertainty_rel)
    measured = {
        "run_id": run.run_id,
        "location": run.location,
        "intensity_g_per_kwh": run.intensity_g_per_kwh,
        "pue": run.pue,
        "facility_energy_kwh": None if run.facility_energy_j is None else run.facility_energy_j / J_PER_KWH,
        "emissions_g": run.emissions_g,
        "emissions_uncertainty_rel": run.emissions_uncertainty_rel,
    }
    assumptions = [
        f"IT energy {energy:.4g} kWh ±{run.energy_uncertainty_rel:.0%} measured in run {run.run_id} "
        f"({run.duration_s / 3600:.3g} h), re-priced; the work is assumed to use the same energy elsewhere"
    ]
    formula = ("facility_energy_kwh = measured energy_kwh x PUE; emissions_g = facility_energy_kwh x "
               "intensity_g_per_kwh; water_l = energy_kwh x WUE")
    return _priced(
        parts, run.duration_s, where, pue, wue, assumptions, formula=formula, run_id=run.run_id, measured=measured,
        energy_kwh=energy, energy_uncertainty_rel=run.energy_uncertainty_rel,
    )

