"""Figures as people read them: energy, emissions and durations in the unit that reads best (stdlib only, so
every layer can use them)."""

from __future__ import annotations


def format_energy(joules: float) -> str:
    """Energy in the unit that reads best: J, Wh or kWh."""
    wh = joules / 3600
    if wh < 0.1:
        return f"{joules:.1f} J"
    if wh < 1000:
        return f"{wh:.2f} Wh"
    return f"{wh / 1000:.3f} kWh"


def format_duration(seconds: float) -> str:
    """Seconds below a minute, else H:MM:SS."""
    if seconds < 60:
        return f"{max(0.0, seconds):.1f} s"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def format_mass_g(grams: float) -> str:
    """A mass in the unit that reads best: mg, g, kg or t."""
    if grams < 0.1:
        return f"{grams * 1000:.3g} mg"
    if grams < 1000:
        return f"{grams:.3g} g"
    if grams < 1e6:
        return f"{grams / 1000:.3g} kg"
    return f"{grams / 1e6:.3g} t"


def format_emissions(grams: float) -> str:
    """Emissions in the unit that reads best: mg, g, kg or t CO2e."""
    return format_mass_g(grams) + " CO2e"
