"""Emissions in everyday terms: smartphone charges, distance driven, tree seedlings grown.

The factors are the US EPA Greenhouse Gas Equivalencies Calculator's, read from ``wattprint.data.equivalences()``
with their vintages; the per-km car factor is the EPA per-mile factor converted (1 mile = 1.609344 km), so the
two distances always agree. An equivalent is an illustration of a quantity, not a second measurement of it: it is
rounded to two significant figures and shown only where it reads as something (at least ``MIN_READABLE`` units).
The EPA's forest factor (acres of US forest in one year) is not offered: its current vintage is unsettled.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["DEFAULT_KEYS", "KM_PER_MILE", "MIN_READABLE", "Equivalent", "equivalents", "format_equivalents",
           "readable"]

KM_PER_MILE = 1.609344
MIN_READABLE = 0.1
"""Below a tenth of a unit (0.01 smartphone charges, 0.00002 tree seedlings) an equivalent means nothing."""


@dataclass(frozen=True)
class Equivalent:
    """``value`` ``unit`` stand for the emissions given, at ``factor`` ``factor_unit`` (source and vintage named).

    ``note`` carries the data table's status of the factor (how it was confirmed).
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

    @property
    def readable(self) -> bool:
        """True when the value is large enough to picture (at least ``MIN_READABLE`` of a unit)."""
        return self.value >= MIN_READABLE

    @property
    def value_text(self) -> str:
        """The value, two significant figures, with its unit: ``"8.1 smartphone charges"``."""
        from wattprint.core.formatting import format_number

        return f"{format_number(self.value, 2)} {self.unit}"

    def to_dict(self) -> dict[str, Any]:
        from wattprint.core.codec import to_dict

        return to_dict(self)


_CAR = "driven by an average gasoline passenger car"
# key -> (table key, label, unit, one unit, conversion of the table's per-unit factor)
_DEFINITIONS: dict[str, tuple[str, str, str, str, float]] = {
    "smartphone_charges": ("smartphone_charge", "smartphones charged", "smartphone charges", "smartphone charge",
                           1.0),
    "car_km": ("car_mile_us", f"km {_CAR}", "km", "km", 1.0 / KM_PER_MILE),
    "car_miles": ("car_mile_us", f"miles {_CAR}", "miles", "mile", 1.0),
    "tree_seedlings_10_years": ("tree_seedling_10_years", "tree seedlings grown for 10 years", "tree seedlings",
                                "tree seedling", 1.0),
}
DEFAULT_KEYS: tuple[str, ...] = tuple(_DEFINITIONS)
"""The equivalents :func:`equivalents` gives by default, in this order."""


def equivalents(emissions_g: float, keys: Sequence[str] | None = None) -> list[Equivalent]:
    """What ``emissions_g`` grams of CO2e amount to, for each of ``keys`` (default: all of DEFAULT_KEYS)."""
    from wattprint.core.errors import ConfigError
    from wattprint.data import equivalence

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


def readable(items: Sequence[Equivalent]) -> list[Equivalent]:
    """The equivalents worth showing: those of at least ``MIN_READABLE`` units."""
    return [item for item in items if item.readable]


def format_equivalents(emissions: float | Sequence[Equivalent], keys: Sequence[str] | None = None) -> str:
    """One summary line of the readable equivalents: ``"≈ 8.1 smartphone charges · 0.41 km (0.25 miles) by car
    (US EPA equivalencies)"``; empty when none reads as something."""
    from wattprint.core.formatting import format_number

    items = list(emissions) if not isinstance(emissions, (int, float)) else equivalents(emissions, keys)
    by_key = {item.key: item for item in items}
    parts = []
    for item in items:
        if item.key == "car_miles" and "car_km" in by_key:
            continue
        if not item.readable:
            continue
        if item.key == "car_km":
            miles = by_key.get("car_miles")
            also = f" ({format_number(miles.value, 2)} miles)" if miles is not None else ""
            parts.append(f"{format_number(item.value, 2)} km{also} by car")
        elif item.key == "car_miles":
            parts.append(f"{format_number(item.value, 2)} miles by car")
        else:
            parts.append(item.value_text + (" grown for 10 years" if item.key == "tree_seedlings_10_years" else ""))
    if not parts:
        return ""
    return "≈ " + " · ".join(parts) + " (US EPA equivalencies)"
