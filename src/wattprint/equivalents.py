"""Emissions in everyday terms: smartphone charges, distance driven, tree seedlings, acres of forest.

The factors are the US EPA Greenhouse Gas Equivalencies Calculator's, read from ``wattprint.data.equivalences()``
with their vintages; the per-km car factor is the EPA per-mile factor converted (1 mile = 1.609344 km), so the
two distances always agree. An equivalent is an illustration of a quantity, not a second measurement of it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["DEFAULT_KEYS", "KM_PER_MILE", "Equivalent", "equivalents", "format_equivalents"]

KM_PER_MILE = 1.609344


@dataclass(frozen=True)
class Equivalent:
    """``value`` ``unit`` stand for the emissions given, at ``factor`` ``factor_unit`` (source and vintage named).

    ``note`` carries the data table's status of the factor (for example that it still needs verification).
    """

    key: str
    label: str
    value: float
    unit: str
    factor: float
    factor_unit: str
    source: str
    vintage: str
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_CAR = "driven by an average gasoline passenger car"
# key -> (table key, label, unit, one unit, conversion of the table's per-unit factor)
_DEFINITIONS: dict[str, tuple[str, str, str, str, float]] = {
    "smartphone_charges": ("smartphone_charge", "smartphones charged", "smartphone charges", "smartphone charge",
                           1.0),
    "car_km": ("car_mile_us", _CAR, "km", "km", 1.0 / KM_PER_MILE),
    "car_miles": ("car_mile_us", _CAR, "miles", "mile", 1.0),
    "tree_seedlings_10_years": ("tree_seedling_10_years", "tree seedlings grown for 10 years", "tree seedlings",
                                "tree seedling", 1.0),
    "forest_acre_years": ("us_forest_acre_year", "acres of US forest in one year", "acre-years", "acre-year", 1.0),
}
DEFAULT_KEYS: tuple[str, ...] = tuple(_DEFINITIONS)
"""The equivalents :func:`equivalents` gives by default, in this order."""


def equivalents(emissions_g: float, keys: Sequence[str] | None = None) -> list[Equivalent]:
    """What ``emissions_g`` grams of CO2e amount to, for each of ``keys`` (default: all of DEFAULT_KEYS)."""
    from wattprint.data import equivalence
    from wattprint.errors import ConfigError

    if isinstance(emissions_g, bool) or not isinstance(emissions_g, (int, float)) or not math.isfinite(emissions_g):
        raise ConfigError(f"emissions_g must be a finite number, got {emissions_g!r}")
    result = []
    for key in DEFAULT_KEYS if keys is None else keys:
        definition = _DEFINITIONS.get(key)
        if definition is None:
            raise ConfigError(f"unknown equivalent {key!r}; known: {', '.join(DEFAULT_KEYS)}")
        table_key, label, unit, singular, conversion = definition
        row = equivalence(table_key)
        factor = row.g_co2e_per_unit * conversion
        converted = f"; converted from {row.g_co2e_per_unit:g} g per mile" if conversion != 1.0 else ""
        result.append(
            Equivalent(
                key=key,
                label=label,
                value=emissions_g / factor,
                unit=unit,
                factor=factor,
                factor_unit=f"gCO2e per {singular}",
                source=row.source,
                vintage=row.vintage + converted,
                note=row.status,
            )
        )
    return result


def _number(value: float) -> str:
    """Three significant figures, without an exponent for everyday sizes."""
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 1e-4:
        digits = max(0, 2 - math.floor(math.log10(magnitude)))
        return f"{value:.{digits}f}"
    return f"{value:.2g}"


def format_equivalents(emissions: float | Sequence[Equivalent], keys: Sequence[str] | None = None) -> str:
    """One summary line: ``"≈ 8.1 smartphone charges · 0.41 km (0.26 miles) driven by car · ... (US EPA)"``."""
    items = list(emissions) if not isinstance(emissions, (int, float)) else equivalents(emissions, keys)
    by_key = {item.key: item for item in items}
    parts = []
    for item in items:
        if item.key == "car_miles" and "car_km" in by_key:
            continue
        if item.key == "car_km":
            miles = by_key.get("car_miles")
            also = f" ({_number(miles.value)} miles)" if miles is not None else ""
            parts.append(f"{_number(item.value)} km{also} by car")
        elif item.key == "car_miles":
            parts.append(f"{_number(item.value)} miles by car")
        elif item.key == "smartphone_charges":
            parts.append(f"{_number(item.value)} smartphone charges")
        elif item.key == "tree_seedlings_10_years":
            parts.append(f"{_number(item.value)} tree seedlings grown for 10 years")
        elif item.key == "forest_acre_years":
            parts.append(f"{_number(item.value)} acres of US forest for a year")
        else:
            parts.append(f"{_number(item.value)} {item.unit}")
    if not parts:
        return ""
    return "≈ " + " · ".join(parts) + " (US EPA equivalencies)"
