"""The paragraph for a paper: hardware, hours, location, PUE, energy, CO2e with its uncertainty, the method and the
data vintage, in words that follow the method (measured, estimated with a model, or both), ready to paste (as
Markdown/plain text or LaTeX)."""

from __future__ import annotations

from collections.abc import Callable

from wattprint._version import __version__
from wattprint.core.formatting import format_duration, format_emissions, format_energy, format_number, format_volume_l
from wattprint.report.content import RunContent, how_located_words

PLAIN = {"pm": "±", "co2": "CO2e", "times": "x"}
LATEX = {"pm": r"$\pm$", "co2": r"CO$_2$e", "times": r"$\times$"}


def _identity(text: str) -> str:
    return text


def paper_paragraph(content: RunContent, *, latex: bool = False) -> str:
    """One paragraph describing how much energy and CO2e the run used and how that was obtained."""
    from wattprint.report.tex import escape

    esc: Callable[[str], str] = escape if latex else _identity
    sym = LATEX if latex else PLAIN
    run = content.run
    version = run.wattprint_version or __version__
    imported = content.imported_from
    if imported:
        extra = content.details
        tool = f"{imported} {extra.tool_version or ''}".strip()
        opening = (
            f"The energy use of this work was recorded by {esc(tool)} and imported into wattprint {esc(__version__)} "
            f"(from {esc(extra.file or 'its records')})."
        )
    elif content.obtained == "estimated":
        opening = (
            f"We estimated the energy use of this work with wattprint {esc(version)} from "
            f"{esc(content.method_sentence())}; no component's energy was measured."
        )
    elif content.obtained == "mixed":
        opening = (
            f"We measured part of the energy use of this work with wattprint {esc(version)} and estimated the rest "
            f"with a model, using {esc(content.method_sentence())}."
        )
    else:
        opening = (
            f"We measured the energy use of this work with wattprint {esc(version)}, using "
            f"{esc(content.method_sentence())}."
        )
    hours = run.duration_s / 3600.0
    took = format_duration(run.duration_s) + (f" ({format_number(hours)} hours)" if run.duration_s >= 36 else "")
    sentences = [
        opening,
        f"The run took {esc(took)} on {esc(content.hardware_phrase())} in {esc(content.location_name)} "
        f"({esc(how_located_words(run.how_located))}).",
    ]
    energy = (
        f"It used {esc(format_energy(run.energy_j))} of IT energy ({sym['pm']}{run.energy_uncertainty_rel * 100:.0f}"
        f"{esc('%')})"
    )
    if not content.has_carbon:
        sentences.append(energy + "; its emissions were not computed.")
        return " ".join(sentences)
    pue_source = content.details.pue_source
    facility = format_energy(run.facility_energy_j or 0.0)
    pue_text = f"a PUE of {run.pue:.3g}" + (f" ({esc(_short(str(pue_source)))})" if pue_source else "")
    sentences.append(f"{energy} and, with {pue_text}, {esc(facility)} at the facility.")
    year = str(run.intensity_year) if run.intensity_year else "data year not stated"
    emissions = format_emissions(run.emissions_g or 0.0).replace(" CO2e", "")
    sentences.append(
        f"At a grid carbon intensity of {run.intensity_g_per_kwh or 0:.4g} g{sym['co2']}/kWh "
        f"({esc(run.intensity_source or 'source not recorded')}, {esc(year)}), this amounts to {esc(emissions)} "
        f"{sym['co2']} ({sym['pm']}{(run.emissions_uncertainty_rel or 0) * 100:.0f}{esc('%')}, one standard "
        "uncertainty)."
    )
    if run.water_l is not None:
        sentences.append(f"It also used {esc(format_volume_l(run.water_l))} of on-site cooling water.")
    return " ".join(sentences)


def _short(source: str, limit: int = 90) -> str:
    """A source string cut at its first clause when it is long."""
    if len(source) <= limit:
        return source
    cut = source.find(" (")
    return source[:cut] if 0 < cut <= limit else source[: limit - 3] + "..."
