"""From energy to footprint: facility energy (PUE), emissions (carbon intensity), water (WUE), embodied
emissions of the hardware, and an SCI-style figure per functional unit.

Every figure carries a relative standard uncertainty. In a product, independent relative uncertainties add in
quadrature: emissions = IT energy x PUE x intensity has u = sqrt(u_E^2 + u_PUE^2 + u_I^2). Over several
intervals the energy errors of one run are taken as fully correlated (the same sensors and models), and so are
the intensity errors (the same yearly figure, or one live provider): absolute uncertainties of each term add
linearly across intervals, then the terms combine in quadrature. Method and reasons: docs/carbon.md.

This module knows nothing about hardware, sensors or the tracker; it takes energies and an intensity.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from wattprint.carbon.intensity import HOW_UNKNOWN, Intensity
from wattprint.core.codec import to_dict
from wattprint.core.errors import ConfigError, check_number
from wattprint.core.units import J_PER_KWH
from wattprint.settings.hints import setting

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.accounting.equivalents import Equivalent

__all__ = [
    "DEFAULT_EMBODIED_UNCERTAINTY",
    "HOURS_PER_YEAR",
    "PROVIDER_PUE_UNCERTAINTY",
    "UNKNOWN_PUE_UNCERTAINTY",
    "Embodied",
    "Footprint",
    "IntervalAccounting",
    "IntervalEmissions",
    "account",
    "account_intervals",
    "default_pue_for",
    "default_wue_for",
    "embodied_for",
    "pue_for",
]

HOURS_PER_YEAR = 8760.0
"""365 days, as Cloud Carbon Footprint counts a server's 4-year life (35,040 hours)."""
PROVIDER_PUE_UNCERTAINTY = 0.05
"""A provider's published fleet or regional PUE, applied to one site and period."""
UNKNOWN_PUE_UNCERTAINTY = 0.20
"""The industry average (1.56) standing in for a data centre, server room or office nobody described."""
DEFAULT_EMBODIED_UNCERTAINTY = 0.50
"""Embodied figures are single life-cycle assessments of reference hardware, not of the machine measured."""
MEMORY_INCLUDED_GB = 16.0
"""The server base figure of Cloud Carbon Footprint includes this much DRAM; only memory above it is added."""


# -- PUE and WUE ---------------------------------------------------------------------------------------------------


def _region(intensity: Intensity) -> str | None:
    if intensity.provider and ":" in intensity.zone:
        return intensity.zone.split(":", 1)[1]
    return None


def pue_for(intensity: Intensity, override: float | None = None) -> tuple[float, str, float]:
    """The PUE to apply, where it came from, and its relative uncertainty.

    ``override`` (the ``pue`` setting) wins, with no uncertainty of its own: it is the user's figure. On a known
    cloud region, the provider's default (regional where the table has one), ±5 %. Otherwise, or for a provider
    without a figure, the industry average for an unknown data centre (Uptime Institute 2024: 1.56), ±20 %.
    """
    if override is not None:
        value = check_number("pue", override, minimum=1.0, maximum=3.0)
        return value, f"given (pue={value:g})", 0.0
    from wattprint.data import default_pue

    record = default_pue(intensity.provider, _region(intensity))
    year = f", {record.year}" if record.year is not None else ""
    if record.provider == "unknown":
        missing = f"{intensity.provider} publishes no PUE in wattprint's table; " if intensity.provider else ""
        source = f"{missing}industry average for an unknown data centre ({record.scope}{year}; {record.source})"
        return record.pue_ratio, source, UNKNOWN_PUE_UNCERTAINTY
    where = f" {record.region}" if record.region else ""
    source = f"{record.provider}{where} default ({record.scope}{year}; {record.source})"
    return record.pue_ratio, source, PROVIDER_PUE_UNCERTAINTY


def default_pue_for(intensity: Intensity, override: float | None = None) -> tuple[float, str]:
    """The PUE to apply and where it came from (see :func:`pue_for`, which also gives its uncertainty)."""
    value, source, _ = pue_for(intensity, override)
    return value, source


def default_wue_for(intensity: Intensity, override: float | None = None) -> tuple[float | None, str]:
    """The on-site water usage effectiveness (L per kWh of IT energy) to apply, and where it came from.

    ``override`` wins. On a known cloud provider with a published figure, that figure. Otherwise None: water use
    depends too much on the site's cooling and climate to assume one, so none is invented.
    """
    if override is not None:
        value = check_number("wue", override, minimum=0.0, maximum=20.0)
        return value, f"given (wue={value:g} L/kWh)"
    if not intensity.provider:
        return None, f"water not estimated: no WUE is known for this data centre ({setting('wue')} to set one)"
    from wattprint.data import default_wue

    record = default_wue(intensity.provider)
    if record is None or record.provider != intensity.provider:
        return None, (f"water not estimated: {intensity.provider} publishes no WUE in wattprint's table "
                      f"({setting('wue')} to set one)")
    year = f", {record.year}" if record.year is not None else ""
    return record.wue_l_per_kwh, (
        f"{record.provider} default ({record.scope}{year}; {record.confidence} confidence; {record.source})"
    )


# -- embodied emissions --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Embodied:
    """The embodied (manufacturing) emissions of hardware, amortised linearly over its lifetime.

    ``total_kg`` for the whole machine, ``lifetime_years`` of use, ``share`` the fraction of the machine this work
    occupies (a VM's vCPUs over the host's, 1.0 for a whole machine), ``uncertainty_rel`` of ``total_kg``.
    """

    total_kg: float
    lifetime_years: float
    share: float = 1.0
    uncertainty_rel: float = DEFAULT_EMBODIED_UNCERTAINTY
    source: str = "given"

    __wire_derived__ = ("g_per_hour",)

    def __post_init__(self) -> None:
        check_number("Embodied.total_kg", self.total_kg, minimum=0.0, maximum=1e9)
        check_number("Embodied.lifetime_years", self.lifetime_years, minimum=1e-3, maximum=100.0)
        check_number("Embodied.share", self.share, minimum=0.0, maximum=1.0)
        check_number("Embodied.uncertainty_rel", self.uncertainty_rel, minimum=0.0, maximum=10.0)

    @property
    def g_per_hour(self) -> float:
        """Grams of CO2e charged per hour of use."""
        return self.total_kg * 1000.0 * self.share / (self.lifetime_years * HOURS_PER_YEAR)

    def grams_for(self, duration_s: float) -> float:
        """Grams of CO2e for ``duration_s`` seconds of use."""
        return self.g_per_hour * duration_s / 3600.0

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)


def embodied_for(
    gpus: int = 0,
    cpus: int = 1,
    memory_gb: float = 0.0,
    *,
    ssds: int = 0,
    hdds: int = 0,
    share: float = 1.0,
    lifetime_years: float | None = None,
    gpu_kg_each: float | None = None,
) -> Embodied:
    """The embodied emissions of a server, by Cloud Carbon Footprint's method (Teads / Dell R740 LCA figures).

    A rack server base (1 CPU, 16 GB DRAM, no storage: 1,000 kgCO2e) plus 100 kg per additional CPU socket,
    1.388 kg per GB of memory above 16 GB, 150 kg per GPU card (``gpu_kg_each`` to use another figure, such as
    the 318 kg per A100 of ``data.constant("embodied.a100_gpu_kg_co2e")``), 100 kg per SSD and 50 kg per HDD;
    over a 4-year life unless ``lifetime_years`` is given. ``cpus`` counts sockets, not cores.
    """
    from wattprint.data import constant

    for name, count in (("gpus", gpus), ("cpus", cpus), ("ssds", ssds), ("hdds", hdds)):
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ConfigError(f"embodied_for: {name} must be a whole number of at least 0, got {count!r}")
    memory_gb = _finite("memory_gb", memory_gb, minimum=0.0)
    base = constant("embodied.server_base_kg_co2e")
    cpu = constant("embodied.cpu_kg_co2e")
    dram = constant("embodied.dram_kg_co2e_per_gb")
    gpu = constant("embodied.gpu_card_kg_co2e")
    ssd = constant("embodied.ssd_kg_co2e")
    hdd = constant("embodied.hdd_kg_co2e")
    life = constant("embodied.server_lifespan_years")
    per_gpu = gpu.value if gpu_kg_each is None else check_number("gpu_kg_each", gpu_kg_each, minimum=0, maximum=1e5)
    total = (
        base.value
        + max(0, cpus - 1) * cpu.value
        + max(0.0, memory_gb - MEMORY_INCLUDED_GB) * dram.value
        + gpus * per_gpu
        + ssds * ssd.value
        + hdds * hdd.value
    )
    gpu_source = "" if gpu_kg_each is None else f", GPUs at {per_gpu:g} kg each (given)"
    return Embodied(
        total_kg=total,
        lifetime_years=life.value if lifetime_years is None else lifetime_years,
        share=share,
        source=f"Cloud Carbon Footprint embodied coefficients ({base.source}){gpu_source}",
    )


# -- results -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Footprint:
    """The footprint of some IT energy: facility energy, emissions, water, embodied emissions and SCI.

    Uncertainties are relative standard uncertainties (0.1 = ±10 %). ``emissions_g`` is operational
    (IT energy x PUE x intensity); ``embodied_g`` is separate; ``sci_g_per_unit`` is
    (emissions + embodied) / functional units. ``water_l`` is on-site water (IT energy x WUE), None when no WUE
    is known. ``notes`` say what was assumed.
    """

    energy_kwh: float
    energy_uncertainty_rel: float
    pue: float
    pue_source: str
    pue_uncertainty_rel: float
    facility_energy_kwh: float
    facility_energy_uncertainty_rel: float
    intensity: Intensity
    emissions_g: float
    emissions_uncertainty_rel: float
    wue_l_per_kwh: float | None
    wue_source: str
    water_l: float | None
    embodied_g: float | None
    embodied_uncertainty_rel: float | None
    embodied_source: str | None
    duration_s: float | None
    sci_g_per_unit: float | None
    sci_uncertainty_rel: float | None
    functional_unit: str | None
    functional_units: float | None
    notes: tuple[str, ...] = ()

    __wire_derived__ = ("emissions_kg", "facility_energy_j", "total_g")

    @property
    def emissions_kg(self) -> float:
        return self.emissions_g / 1000.0

    @property
    def facility_energy_j(self) -> float:
        return self.facility_energy_kwh * J_PER_KWH

    @property
    def equivalents(self) -> list[Equivalent]:
        """The emissions in everyday terms (smartphone charges, km by car, ...), with factor vintages."""
        from wattprint.accounting.equivalents import equivalents

        return equivalents(self.emissions_g)

    @property
    def total_g(self) -> float:
        """Operational plus embodied emissions."""
        return self.emissions_g + (self.embodied_g or 0.0)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; the intensity nested, derived figures included."""
        return to_dict(self)

    def record_fields(self) -> dict[str, Any]:
        """The carbon fields of a stored run (``location`` is None when the location is unknown)."""
        i = self.intensity
        return {
            "location": i.zone if i.how_located != HOW_UNKNOWN else None,
            "how_located": i.how_located,
            "intensity_g_per_kwh": i.g_per_kwh,
            "intensity_zone": i.zone,
            "intensity_source": i.source,
            "intensity_year": i.year,
            "intensity_kind": i.kind,
            "intensity_uncertainty_rel": i.uncertainty_rel,
            "pue": self.pue,
            "facility_energy_j": self.facility_energy_j,
            "emissions_g": self.emissions_g,
            "emissions_uncertainty_rel": self.emissions_uncertainty_rel,
            "water_l": self.water_l,
            "embodied_g": self.embodied_g,
        }


@dataclass(frozen=True)
class IntervalEmissions:
    """One interval priced with the intensity valid at its midpoint."""

    start_s: float
    end_s: float
    energy_kwh: float
    facility_energy_kwh: float
    intensity_g_per_kwh: float
    emissions_g: float


@dataclass(frozen=True)
class IntervalAccounting:
    """The footprint of a sequence of intervals: the total and each interval's emissions."""

    total: Footprint
    intervals: tuple[IntervalEmissions, ...]


# -- accounting ----------------------------------------------------------------------------------------------------


def _finite(name: str, value: object, *, minimum: float = -math.inf) -> float:
    """``value`` as a float if it is a finite number of at least ``minimum``; otherwise a ConfigError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < minimum:
        at_least = f" of at least {minimum:g}" if math.isfinite(minimum) else ""
        raise ConfigError(f"{name} must be a finite number{at_least}, got {value!r}")
    return float(value)


def _check_energy(energy_kwh: object, uncertainty_rel: object) -> tuple[float, float]:
    energy = _finite("energy_kwh", energy_kwh, minimum=0.0)
    uncertainty = check_number("energy_uncertainty_rel", uncertainty_rel, minimum=0.0, maximum=10.0)
    return energy, uncertainty


def _quadrature(*terms: float) -> float:
    return math.sqrt(sum(t * t for t in terms))


def _mean_intensity(intensities: Sequence[Intensity], g_per_kwh: float, uncertainty_rel: float) -> Intensity:
    """The one intensity, or an energy-weighted mean of several (time-varying ones) keeping the first's origin."""
    first = intensities[0]
    if all(i == first for i in intensities):
        return first
    sources = list(dict.fromkeys(i.source for i in intensities))
    years = {i.year for i in intensities}
    note = f"energy-weighted mean of {len(intensities)} interval intensities"
    return replace(
        first,
        g_per_kwh=g_per_kwh,
        uncertainty_rel=uncertainty_rel,
        source="; ".join(sources),
        year=first.year if len(years) == 1 else None,
        notes=(*first.notes, note),
    )


def account_intervals(
    intervals: Sequence[tuple[float, float, float, float]],
    intensity_at: Callable[[float], Intensity] | Intensity,
    *,
    pue: float | None = None,
    wue: float | None = None,
    embodied: Embodied | None = None,
    functional_units: float | None = None,
    functional_unit: str | None = None,
) -> IntervalAccounting:
    """The footprint of intervals ``(start_s, end_s, energy_kwh, energy_uncertainty_rel)`` (Unix times, IT energy).

    Each interval is priced with ``intensity_at(midpoint)`` (or one static :class:`Intensity`), so time-varying
    intensities plug in here. PUE and WUE follow the first interval's intensity (see :func:`pue_for`,
    :func:`default_wue_for`); ``embodied`` is charged for the summed interval durations. With
    ``functional_units`` (or ``embodied``) an SCI-style figure is given per ``functional_unit`` (default: one
    ``run``). Energy errors are taken as correlated across intervals, and so are intensity errors.
    """
    import time

    price: Callable[[float], Intensity]
    if isinstance(intensity_at, Intensity):
        static = intensity_at

        def price(_t: float) -> Intensity:
            return static
    else:
        price = intensity_at
    checked: list[tuple[float, float, float, float, Intensity]] = []
    for index, item in enumerate(intervals):
        try:
            start, end, energy, uncertainty = item
        except (TypeError, ValueError):
            raise ConfigError(f"interval {index} must be (start_s, end_s, energy_kwh, energy_uncertainty_rel), "
                              f"got {item!r}") from None
        energy, uncertainty = _check_energy(energy, uncertainty)
        start = _finite(f"interval {index} start_s", start)
        end = _finite(f"interval {index} end_s", end, minimum=start)
        valid = price((start + end) / 2.0)
        if not isinstance(valid, Intensity):
            raise ConfigError(f"intensity_at() must return a wattprint.carbon.Intensity, got {type(valid).__name__}")
        checked.append((start, end, energy, uncertainty, valid))
    reference = checked[0][4] if checked else price(time.time())
    pue_value, pue_source, pue_u = pue_for(reference, pue)
    wue_value, wue_source = default_wue_for(reference, wue)

    energy_total = sum(c[2] for c in checked)
    energy_abs = sum(c[2] * c[3] for c in checked)
    facility_total = energy_total * pue_value
    parts: list[IntervalEmissions] = []
    emissions_total = energy_part = intensity_part = 0.0
    for start, end, energy, uncertainty, valid in checked:
        facility = energy * pue_value
        grams = facility * valid.g_per_kwh
        parts.append(IntervalEmissions(start, end, energy, facility, valid.g_per_kwh, grams))
        emissions_total += grams
        energy_part += grams * uncertainty
        intensity_part += grams * valid.uncertainty_rel
    energy_u = energy_abs / energy_total if energy_total > 0 else max((c[3] for c in checked), default=0.0)
    if emissions_total > 0:
        intensity_u = intensity_part / emissions_total
        emissions_u = _quadrature(energy_part, intensity_part, emissions_total * pue_u) / emissions_total
    else:
        intensity_u = reference.uncertainty_rel
        emissions_u = _quadrature(energy_u, pue_u, intensity_u)
    effective = emissions_total / facility_total if facility_total > 0 else reference.g_per_kwh
    intensity = _mean_intensity([c[4] for c in checked] or [reference], effective, intensity_u)

    duration = sum(c[1] - c[0] for c in checked)
    total = _footprint(
        energy_total, energy_u, pue_value, pue_source, pue_u, intensity, emissions_total, emissions_u,
        wue_value, wue_source, embodied, duration, functional_units, functional_unit,
    )
    return IntervalAccounting(total=total, intervals=tuple(parts))


def account(
    energy_kwh: float,
    energy_uncertainty_rel: float,
    intensity: Intensity,
    *,
    pue: float | None = None,
    wue: float | None = None,
    embodied: Embodied | None = None,
    duration_s: float | None = None,
    functional_units: float | None = None,
    functional_unit: str | None = None,
) -> Footprint:
    """The footprint of ``energy_kwh`` of IT energy (±``energy_uncertainty_rel``) at one ``intensity``.

    facility energy = energy x PUE; emissions = facility energy x intensity, u = sqrt(u_E^2 + u_PUE^2 + u_I^2);
    water = energy x WUE; embodied = ``embodied.grams_for(duration_s)`` (``duration_s`` is then required);
    SCI = (emissions + embodied) / ``functional_units``, per ``functional_unit`` (``"epoch"``,
    ``"1,000 inferences"``; default one ``"run"``). ``pue``/``wue`` override the defaults of the location.
    """
    energy, uncertainty = _check_energy(energy_kwh, energy_uncertainty_rel)
    if not isinstance(intensity, Intensity):
        raise ConfigError(f"intensity must be a wattprint.carbon.Intensity, got {type(intensity).__name__}")
    pue_value, pue_source, pue_u = pue_for(intensity, pue)
    wue_value, wue_source = default_wue_for(intensity, wue)
    emissions = energy * pue_value * intensity.g_per_kwh
    emissions_u = _quadrature(uncertainty, pue_u, intensity.uncertainty_rel)
    if duration_s is not None:
        duration_s = _finite("duration_s", duration_s, minimum=0.0)
    return _footprint(
        energy, uncertainty, pue_value, pue_source, pue_u, intensity, emissions, emissions_u,
        wue_value, wue_source, embodied, duration_s, functional_units, functional_unit,
    )


def _footprint(
    energy: float,
    energy_u: float,
    pue: float,
    pue_source: str,
    pue_u: float,
    intensity: Intensity,
    emissions: float,
    emissions_u: float,
    wue: float | None,
    wue_source: str,
    embodied: Embodied | None,
    duration_s: float | None,
    functional_units: float | None,
    functional_unit: str | None,
) -> Footprint:
    notes: list[str] = []
    if not intensity.location_known:
        from wattprint.carbon.location import location_hint

        hint = location_hint(intensity)
        if hint:
            notes.append(hint)
    if wue is None:
        notes.append(wue_source)
    embodied_g = embodied_u = None
    embodied_source = None
    if embodied is not None:
        if not isinstance(embodied, Embodied):
            raise ConfigError(f"embodied must be a wattprint Embodied, got {type(embodied).__name__}")
        if duration_s is None:
            raise ConfigError("embodied emissions are charged per hour of use: pass duration_s as well")
        embodied_g = embodied.grams_for(duration_s)
        embodied_u = embodied.uncertainty_rel
        embodied_source = embodied.source
    sci = sci_u = None
    units = None
    if functional_units is not None or functional_unit is not None or embodied is not None:
        units = 1.0 if functional_units is None else functional_units
        units = _finite("functional_units", units, minimum=0.0)
        if units <= 0:
            raise ConfigError(f"functional_units must be more than 0, got {functional_units!r}")
        functional_unit = functional_unit or ("run" if functional_units is None else "unit")
        grams = emissions + (embodied_g or 0.0)
        absolute = _quadrature(emissions * emissions_u, (embodied_g or 0.0) * (embodied_u or 0.0))
        sci = grams / units
        sci_u = absolute / grams if grams > 0 else emissions_u
        if embodied is None:
            notes.append("SCI without embodied emissions (M = 0): pass embodied= to include the hardware")
    facility_u = _quadrature(energy_u, pue_u)
    return Footprint(
        energy_kwh=energy,
        energy_uncertainty_rel=energy_u,
        pue=pue,
        pue_source=pue_source,
        pue_uncertainty_rel=pue_u,
        facility_energy_kwh=energy * pue,
        facility_energy_uncertainty_rel=facility_u,
        intensity=intensity,
        emissions_g=emissions,
        emissions_uncertainty_rel=emissions_u,
        wue_l_per_kwh=wue,
        wue_source=wue_source,
        water_l=energy * wue if wue is not None else None,
        embodied_g=embodied_g,
        embodied_uncertainty_rel=embodied_u,
        embodied_source=embodied_source,
        duration_s=duration_s,
        sci_g_per_unit=sci,
        sci_uncertainty_rel=sci_u,
        functional_unit=functional_unit if sci is not None else None,
        functional_units=units,
        notes=tuple(notes),
    )
