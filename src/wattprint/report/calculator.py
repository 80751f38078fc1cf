"""Text for people of an estimate (``wattprint estimate``) and of a region comparison (``wattprint compare-regions``).

The JSON of both is their ``to_dict()``; this module only lays the same figures out for a terminal.
"""

from __future__ import annotations

from wattprint.core.formatting import format_emissions, format_energy_kwh, format_number, format_volume_l, shorten
from wattprint.plan.compare import RegionComparison, RegionPrice
from wattprint.plan.estimate import Estimate


def estimate_text(result: Estimate) -> str:
    """A few lines: the parts, energy, facility energy, emissions, intensity, water, equivalents, assumptions."""
    from wattprint.accounting.equivalents import format_equivalents

    footprint = result.footprint
    head = f"run {result.run_id[:12]} re-priced" if result.run_id else "estimate"
    lines = [f"{head}: {format_number(result.hours, 4)} h, average {result.power_w:,.1f} W"]
    if result.parts:
        lines.append(f"  {'component':<10} {'what':<34} {'power':>10} {'energy':>12}  {'method':<8} {'±':>4}")
        for part in result.parts:
            what = f"{part.count} x {part.device}" if part.count > 1 else part.device
            lines.append(
                f"  {part.component:<10} {shorten(what, 34):<34} {part.power_w:>8,.1f} W "
                f"{format_energy_kwh(part.energy_kwh):>12}  {part.method:<8} {part.uncertainty_rel:>4.0%}"
            )
    water = f"   water {format_volume_l(footprint.water_l)}" if footprint.water_l is not None else ""
    lines += [
        f"  IT energy {format_energy_kwh(result.energy_kwh)} ± {result.energy_uncertainty_rel:.0%}   facility energy "
        f"{format_energy_kwh(footprint.facility_energy_kwh)} (PUE {footprint.pue:g}){water}",
        f"  emissions {format_emissions(footprint.emissions_g)} ± {footprint.emissions_uncertainty_rel:.0%}",
        f"  intensity {footprint.intensity.describe()}",
    ]
    measured = result.measured
    if measured and measured.get("emissions_g") is not None:
        before = measured["emissions_g"]
        factor = f" ({footprint.emissions_g / before:.3g}x)" if before > 0 else ""
        lines.append(f"  measured at {measured.get('location') or 'an unknown location'}: "
                     f"{format_emissions(before)}; here{factor}")
    everyday = format_equivalents(list(result.equivalents))  # empty when no equivalent reads as something
    if everyday:
        lines.append(f"  {everyday}")
    lines.append("  assumptions:")
    lines += [f"    - {item}" for item in result.assumptions]
    lines += [f"  note: {note}" for note in footprint.notes]
    return "\n".join(lines)


def _row(price: RegionPrice, marker: str) -> str:
    rank = str(price.rank) if price.rank is not None else "-"
    ratio = f"{price.ratio:.3g}x" if price.ratio is not None else "-"
    if price.ratio is not None and not price.comparable:
        ratio = f"({ratio})*"
    year = str(price.intensity_year) if price.intensity_year else "n/s"
    return (
        f"{marker}{rank:>4} {price.key[:30]:<30} {shorten(price.name, 32):<32} {price.intensity_g_per_kwh:>7.0f} "
        f"{price.intensity_basis:<11} {year:>4} {price.pue:>5.2f} {format_emissions(price.emissions_g):>15} "
        f"±{price.emissions_uncertainty_rel:>4.0%} {ratio:>9}"
    )


def comparison_text(comparison: RegionComparison, *, limit: int | None = None) -> str:
    """The ranked table (the reference marked ``>``), the spread, and the greenest choices near a location."""
    ref_key = comparison.reference.key if comparison.reference else None
    lines = [
        f"{comparison.workload}; {len(comparison.regions)} locations, greenest first; ratio to {comparison.ratio_to}",
        f" {'rank':>4} {'location':<30} {'name':<32} {'g/kWh':>7} {'basis':<11} {'year':>4} {'PUE':>5} "
        f"{'emissions':>15} {'±':>5} {'ratio':>9}",
    ]
    shown = comparison.regions if not limit else comparison.regions[:limit]
    for price in shown:
        lines.append(_row(price, ">" if price.key == ref_key else " "))
    if limit and len(comparison.regions) > limit:
        lines.append(f"  ... {len(comparison.regions) - limit} more (--limit 0 shows all)")
    reference = comparison.reference
    if reference is not None and (reference.rank is None or (limit and reference.rank > limit)):
        lines.append(_row(reference, ">"))
    if any(p.ratio is not None and not p.comparable for p in (*shown, *(r for r in [reference] if r))):
        lines.append(f"  * a different basis from {comparison.ratio_to}'s ({comparison.basis}): that ratio is not a "
                     "like-for-like comparison")
    if any(not p.intensity_year for p in shown):
        lines.append("  n/s: the source does not state the data year")
    lines += [f"  {sentence}" for sentence in comparison.sentences()]
    if comparison.near is not None:
        near = comparison.near
        for label, group in (("country", comparison.near_country), ("continent", comparison.near_continent)):
            if group:
                choices = ", ".join(
                    f"{p.key} ({format_emissions(p.emissions_g)}"
                    + (f", {p.ratio:.3g}x" if p.ratio is not None and p.comparable else "")
                    + (f", {p.intensity_basis}" if comparison.mixed_bases else "") + ")"
                    for p in group
                )
                place = near.country if label == "country" else near.continent
                lines.append(f"  greenest in the same {label} as {near.key} ({place}): {choices}")
    return "\n".join(lines)
