"""Data-centre efficiency (PUE, WUE), CO2e equivalences and reference constants."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from ._io import opt_int, opt_str, read_table

__all__ = [
    "Constant",
    "Equivalence",
    "PueRecord",
    "WueRecord",
    "constant",
    "constants",
    "default_pue",
    "default_wue",
    "equivalence",
    "equivalences",
    "pue_records",
    "wue_records",
]

# Names users and other tables give providers -> the provider key of pue_wue.csv.
_PROVIDER_ALIASES = {
    "google": "gcp",
    "googlecloud": "gcp",
    "gce": "gcp",
    "amazon": "aws",
    "microsoft": "azure",
    "ovhcloud": "ovh",
    "oci": "oracle",
    "industry": "unknown",
    "on-premises": "unknown",
    "on-prem": "unknown",
    "onprem": "unknown",
    "local": "unknown",
    "": "unknown",
}


def _provider(name: str | None) -> str:
    key = (name or "").strip().casefold().replace(" ", "")
    return _PROVIDER_ALIASES.get(key, key)


@dataclass(frozen=True)
class PueRecord:
    """A power usage effectiveness figure (facility energy / IT energy) with its year and source.

    ``provider`` is ``"unknown"`` for the industry average used for unknown or on-premises data
    centres. ``region`` is None for fleet-wide figures. ``is_default`` marks the figure wattprint
    uses for that provider/region (rule in docs/data.md).
    """

    provider: str
    region: str | None
    pue_ratio: float
    period: str
    year: int | None
    is_default: bool
    scope: str
    confidence: str
    source: str
    licence: str
    note: str


@dataclass(frozen=True)
class WueRecord:
    """A water usage effectiveness figure (litres of water per kWh of IT energy) with year and source."""

    provider: str
    region: str | None
    wue_l_per_kwh: float
    period: str
    year: int | None
    is_default: bool
    scope: str
    confidence: str
    source: str
    licence: str
    note: str


@cache
def _efficiency() -> tuple[tuple[PueRecord, ...], tuple[WueRecord, ...]]:
    pue: list[PueRecord] = []
    wue: list[WueRecord] = []
    for row in read_table("pue_wue.csv"):
        provider, region, value = row["provider"], opt_str(row["region"]), float(row["value"])
        period, year, is_default = row["period"], opt_int(row["year"]), row["is_default"] == "1"
        rest = (row["scope"], row["confidence"], row["source"], row["licence"], row["note"])
        if row["metric"] == "PUE":
            pue.append(PueRecord(provider, region, value, period, year, is_default, *rest))
        elif row["metric"] == "WUE":
            wue.append(WueRecord(provider, region, value, period, year, is_default, *rest))
    return tuple(pue), tuple(wue)


def pue_records(provider: str | None = None) -> tuple[PueRecord, ...]:
    """All PUE figures, optionally of one provider (``"gcp"``, ``"aws"``, ``"azure"``, ``"unknown"``, ...)."""
    rows = _efficiency()[0]
    return rows if provider is None else tuple(r for r in rows if r.provider == _provider(provider))


def wue_records(provider: str | None = None) -> tuple[WueRecord, ...]:
    """All WUE figures, optionally of one provider."""
    rows = _efficiency()[1]
    return rows if provider is None else tuple(r for r in rows if r.provider == _provider(provider))


def default_pue(provider: str | None = None, region: str | None = None) -> PueRecord:
    """The PUE wattprint uses for a provider (and region, when a regional figure exists).

    With no provider, ``"unknown"``, ``"on-premises"``, or a provider without figures, this is
    the industry-average default for an unknown data centre (Uptime Institute 2024 survey, 1.56);
    the returned record's ``provider`` is then ``"unknown"``, so callers can report it.
    """
    key = _provider(provider)
    rows = _efficiency()[0]
    if region:
        wanted = region.strip().casefold()
        for r in rows:
            if r.provider == key and r.is_default and r.region and r.region.casefold() == wanted:
                return r
    for wanted_provider in (key, "unknown"):
        for r in rows:
            if r.provider == wanted_provider and r.is_default and r.region is None:
                return r
    raise LookupError("pue_wue.csv has no default PUE for an unknown data centre; rebuild the data")


def default_wue(provider: str | None = None) -> WueRecord | None:
    """The WUE wattprint uses for a provider, the industry figure for ``None``/"unknown", or None.

    Unlike PUE, a provider without a published figure gives None: water use varies too much
    between sites (cooling design, climate) for the industry average to stand in for it.
    """
    key = _provider(provider)
    for r in _efficiency()[1]:
        if r.provider == key and r.is_default and r.region is None:
            return r
    return None


@dataclass(frozen=True)
class Equivalence:
    """How many grams of CO2e one unit of something stands for (a mile driven, a tree-year, ...)."""

    key: str
    g_co2e_per_unit: float
    unit: str
    description: str
    vintage: str
    status: str
    source: str
    licence: str


@cache
def equivalences() -> dict[str, Equivalence]:
    """All equivalence factors by key (``"car_mile_us"``, ``"smartphone_charge"``, ``"tree_year"``, ...)."""
    return {
        row["key"]: Equivalence(
            key=row["key"],
            g_co2e_per_unit=float(row["g_co2e_per_unit"]),
            unit=row["unit"],
            description=row["description"],
            vintage=row["vintage"],
            status=row["status"],
            source=row["source"],
            licence=row["licence"],
        )
        for row in read_table("equivalences.csv")
    }


def equivalence(key: str) -> Equivalence:
    """One equivalence factor; KeyError naming the known keys when there is none."""
    table = equivalences()
    try:
        return table[key]
    except KeyError:
        raise KeyError(f"no equivalence {key!r}; known: {', '.join(sorted(table))}") from None


@dataclass(frozen=True)
class Constant:
    """A reference constant; its key names the quantity and unit (``"ram.power_w_per_gb.green_algorithms"``)."""

    key: str
    value: float
    unit: str
    description: str
    year: int | None
    source: str
    licence: str
    note: str


@cache
def constants() -> dict[str, Constant]:
    """All reference constants by key: RAM and CPU power defaults, storage and network
    coefficients, embodied emissions, per-fuel emission factors."""
    return {
        row["key"]: Constant(
            key=row["key"],
            value=float(row["value"]),
            unit=row["unit"],
            description=row["description"],
            year=opt_int(row["year"]),
            source=row["source"],
            licence=row["licence"],
            note=row["note"],
        )
        for row in read_table("constants.csv")
    }


def constant(key: str) -> Constant:
    """One constant; KeyError naming the known keys when there is none."""
    table = constants()
    try:
        return table[key]
    except KeyError:
        raise KeyError(f"no constant {key!r}; known: {', '.join(sorted(table))}") from None
