"""Figures as people read them: energy, emissions, masses, counts and durations in the unit that reads best, with
sensible rounding (stdlib only, so every layer uses the same formatters)."""

from __future__ import annotations

import math

from wattprint.core.units import J_PER_KWH

_ENERGY_UNITS_WH = ((1e6, "MWh"), (1e3, "kWh"), (1.0, "Wh"), (1e-3, "mWh"))
_MASS_UNITS_G = ((1e6, "t"), (1e3, "kg"), (1.0, "g"), (1e-3, "mg"))


def format_number(value: float, digits: int = 3) -> str:
    """``value`` to ``digits`` significant figures, never with an exponent: ``12,300``, ``8.1``, ``0.0042``."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    magnitude = math.floor(math.log10(abs(value)))
    decimals = digits - 1 - magnitude
    rounded = round(value, decimals)
    if rounded != 0 and math.floor(math.log10(abs(rounded))) > magnitude:  # 9.99 -> 10.0: one digit fewer
        decimals -= 1
        rounded = round(value, decimals)
    if decimals <= 0:
        return f"{rounded:,.0f}"
    return f"{rounded:.{decimals}f}".rstrip("0").rstrip(".")


def _scaled(value: float, units: tuple[tuple[float, str], ...], digits: int) -> str:
    magnitude = abs(value)
    if magnitude == 0:
        return f"0 {units[2][1]}"
    for scale, unit in units:
        if magnitude >= scale:
            return f"{format_number(value / scale, digits)} {unit}"
    scale, unit = units[-1]
    return f"{format_number(value / scale, digits)} {unit}"


def _unit(value: float, units: tuple[tuple[float, str], ...]) -> tuple[float, str]:
    magnitude = abs(value)
    for scale, unit in units:
        if magnitude >= scale:
            return scale, unit
    return units[-1]


def energy_unit(joules: float) -> tuple[float, str]:
    """(joules per unit, unit name) of the watt-hour unit that reads best for ``joules`` (a chart's axis)."""
    scale, unit = _unit(joules / 3600.0, _ENERGY_UNITS_WH)
    return scale * 3600.0, unit


def mass_unit(grams: float) -> tuple[float, str]:
    """(grams per unit, unit name) of the mass unit that reads best for ``grams`` (a chart's axis)."""
    return _unit(grams, _MASS_UNITS_G)


def format_energy(joules: float, digits: int = 3) -> str:
    """Energy in the watt-hour unit that reads best: ``0.69 mWh``, ``2.5 Wh``, ``31.4 kWh``."""
    return _scaled(joules / 3600.0, _ENERGY_UNITS_WH, digits)


def format_energy_kwh(kwh: float, digits: int = 3) -> str:
    """:func:`format_energy` of a figure in kWh."""
    return format_energy(kwh * J_PER_KWH, digits)


def format_duration(seconds: float) -> str:
    """Seconds below a minute, else H:MM:SS."""
    if seconds < 60:
        return f"{max(0.0, seconds):.1f} s"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def format_mass_g(grams: float, digits: int = 3) -> str:
    """A mass in the unit that reads best: ``mg``, ``g``, ``kg`` or ``t``."""
    return _scaled(grams, _MASS_UNITS_G, digits)


def format_emissions(grams: float, digits: int = 3) -> str:
    """Emissions in the unit that reads best: ``0.52 mg CO2e``, ``1.63 kg CO2e``."""
    return format_mass_g(grams, digits) + " CO2e"


def format_volume_l(litres: float, digits: int = 3) -> str:
    """A volume of water in the unit that reads best: ``mL``, ``L`` or ``m³``."""
    if litres == 0:
        return "0 L"
    return _scaled(litres, ((1e3, "m³"), (1.0, "L"), (1e-3, "mL")), digits)


def shorten(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, cut at a word boundary with an ellipsis, never mid-word."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    cut = text[: width - 1]
    if text[width - 1] not in " :,(-":  # the cut falls inside a word: go back to the word's start
        boundary = max(cut.rfind(sep) for sep in " :,(-")
        if boundary > 0:
            cut = cut[:boundary]
    return cut.rstrip(" :,(-") + "…"

