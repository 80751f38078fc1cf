"""The same work priced in many places: every region of one or more cloud providers, or a list of locations.

``compare_regions()`` prices one IT energy (from an estimate, a measured run, or a number) at each location with
its own grid intensity and its provider's PUE (``wattprint.accounting.footprint.account``), ranks the locations from the
greenest, gives each one's ratio to a chosen reference ("running in X emits N x more than in Y"), and picks the
greenest choices near a given location (the same country, the same continent).

Intensities differ in what they count (``basis``: ``lifecycle`` figures add upstream emissions that ``direct``
ones, such as Google's operational figures, leave out). Every price carries its basis; a ratio between two
bases is flagged ``comparable=False``, and the plain statements compare only locations of one basis, saying so
when the set mixes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from wattprint.core.codec import to_dict
from wattprint.core.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.data import IntensityRecord
    from wattprint.plan.estimate import Estimate

__all__ = ["RegionComparison", "RegionPrice", "compare_estimate", "compare_regions", "known_providers"]


@dataclass(frozen=True)
class RegionPrice:
    """The work priced at one location. ``rank`` 1 is the greenest of the compared set (None for a reference that
    is not in it); ``ratio`` is emissions over the reference's (or over the greenest's when there is no
    reference)."""

    key: str
    name: str
    kind: str
    provider: str | None
    country: str | None
    continent: str | None
    intensity_g_per_kwh: float
    intensity_year: int | None
    intensity_source: str
    intensity_uncertainty_rel: float
    intensity_basis: str
    """What the intensity counts: ``lifecycle``, ``direct`` (generation only), ``direct-co2``, ``unspecified``."""
    pue: float
    pue_source: str
    facility_energy_kwh: float
    emissions_g: float
    emissions_uncertainty_rel: float
    water_l: float | None
    rank: int | None = None
    ratio: float | None = None
    comparable: bool = True
    """False when ``ratio`` divides by a figure of another basis: then it is not a like-for-like comparison."""

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)


@dataclass(frozen=True)
class RegionComparison:
    """Locations ranked from the greenest for one IT energy, with the reference and the greenest nearby choices.

    ``ratio_to`` names what ``RegionPrice.ratio`` divides by: the reference's key, or ``"greenest"``.
    ``near_country`` and ``near_continent`` are the greenest compared locations in the ``near`` location's
    country and continent.
    """

    workload: str
    energy_kwh: float
    energy_uncertainty_rel: float
    pue_given: float | None
    regions: tuple[RegionPrice, ...]
    reference: RegionPrice | None
    ratio_to: str
    near: RegionPrice | None
    near_country: tuple[RegionPrice, ...]
    near_continent: tuple[RegionPrice, ...]

    @property
    def greenest(self) -> RegionPrice:
        return self.regions[0]

    @property
    def dirtiest(self) -> RegionPrice:
        return self.regions[-1]

    @property
    def bases(self) -> tuple[str, ...]:
        """The distinct bases of the compared figures (the reference's included), in order of first appearance."""
        found = [p.intensity_basis for p in self.regions]
        if self.reference is not None:
            found.append(self.reference.intensity_basis)
        return tuple(dict.fromkeys(found))

    @property
    def mixed_bases(self) -> bool:
        """True when the figures count different things (lifecycle against direct): not all rows compare."""
        return len(self.bases) > 1

    @property
    def basis(self) -> str:
        """The basis the statements compare on: the reference's, else the greenest location's."""
        return (self.reference or self.greenest).intensity_basis

    def sentences(self) -> list[str]:
        """Plain statements: the spread of the set, and what moving from the reference would change; with mixed
        bases, said first, and each statement compares only locations of one basis."""
        lines = []
        basis = self.basis
        same = [p for p in self.regions if p.intensity_basis == basis]
        if self.mixed_bases:
            counts = ", ".join(
                f"{b} {sum(1 for p in self.regions if p.intensity_basis == b)}" for b in self.bases
            )
            lines.append(
                f"These figures mix bases ({counts}): {_basis_words(self.bases)} Figures of different bases are not "
                f"comparable, so the comparisons below use only the {len(same)} {basis} location(s)."
            )
        if not same:
            return lines
        best, worst = same[0], same[-1]
        if len(same) > 1 and best.emissions_g > 0:
            lines.append(
                f"Running in {worst.key} ({worst.name}) emits {worst.emissions_g / best.emissions_g:.3g}x more than "
                f"in {best.key} ({best.name})."
            )
        ref = self.reference
        what = f"the {len(same)} {basis} locations" if self.mixed_bases else f"the {len(self.regions)} locations"
        if ref is not None and ref.key != best.key and best.emissions_g > 0 and ref.emissions_g > best.emissions_g:
            lines.append(
                f"Moving from {ref.key} to {best.key} would cut emissions {ref.emissions_g / best.emissions_g:.3g}x "
                f"({_grams(ref.emissions_g)} -> {_grams(best.emissions_g)})."
            )
        elif ref is not None:
            lines.append(f"{ref.key} is already the greenest of {what} compared.")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "workload": self.workload,
            "energy_kwh": self.energy_kwh,
            "energy_uncertainty_rel": self.energy_uncertainty_rel,
            "pue_given": self.pue_given,
            "ratio_to": self.ratio_to,
            "reference": self.reference.to_dict() if self.reference else None,
            "regions": [r.to_dict() for r in self.regions],
            "near": self.near.to_dict() if self.near else None,
            "bases": list(self.bases),
            "mixed_bases": self.mixed_bases,
            "greenest_near": {
                "country": [r.to_dict() for r in self.near_country],
                "continent": [r.to_dict() for r in self.near_continent],
            },
            "sentences": self.sentences(),
        }


_BASIS_WORDS = {
    "lifecycle": "a lifecycle figure counts generation and upstream emissions (fuel supply, construction)",
    "direct": "a direct one (Google's operational figures, eGRID) counts generation only",
    "direct-co2": "a direct-co2 one counts the CO2 of generation only",
    "unspecified": "an unspecified one's source does not say what it counts",
}


def _basis_words(bases: Sequence[str]) -> str:
    parts = [_BASIS_WORDS.get(b, f"a {b} one counts what its source says") for b in bases]
    return "; ".join(parts) + "."


def _grams(grams: float) -> str:
    from wattprint.core.formatting import format_emissions

    return format_emissions(grams)


def _energy(kwh: float) -> str:
    from wattprint.core.formatting import format_energy_kwh

    return format_energy_kwh(kwh)


def _hours(hours: float) -> str:
    from wattprint.core.formatting import format_number

    return format_number(hours)


def known_providers() -> list[str]:
    """The cloud providers that have regions in the intensity table."""
    from wattprint.data import cloud_regions

    return sorted({r.provider for r in cloud_regions() if r.provider})


def _records(providers: Iterable[str] | None, locations: Iterable[str] | None) -> list[IntensityRecord]:
    from wattprint.carbon import lookup_location
    from wattprint.data import cloud_regions

    chosen: dict[str, IntensityRecord] = {}
    for provider in providers or ():
        rows = cloud_regions(provider)
        if not rows:
            raise ConfigError(
                f"provider {provider!r} has no regions in the intensity table; known: {', '.join(known_providers())}"
            )
        for row in rows:
            chosen.setdefault(row.key, row)
    for location in locations or ():
        row = lookup_location(location, origin="locations")
        chosen.setdefault(row.key, row)
    if providers is None and locations is None:
        for row in cloud_regions():
            chosen.setdefault(row.key, row)
    if not chosen:
        from wattprint.settings.hints import name

        raise ConfigError(f"nothing to compare: give {name('providers')} and/or {name('locations')}")
    return list(chosen.values())


def _price(record: IntensityRecord, energy_kwh: float, uncertainty: float, pue: float | None,
           wue: float | None) -> RegionPrice:
    from wattprint.accounting.footprint import account
    from wattprint.carbon.intensity import HOW_ARGUMENT, intensity_from_record

    intensity = intensity_from_record(record, HOW_ARGUMENT)
    footprint = account(energy_kwh, uncertainty, intensity, pue=pue, wue=wue)
    return RegionPrice(
        key=record.key,
        name=record.name,
        kind=record.kind,
        provider=record.provider,
        country=record.country,
        continent=record.continent,
        intensity_g_per_kwh=intensity.g_per_kwh,
        intensity_year=intensity.year,
        intensity_source=intensity.source,
        intensity_uncertainty_rel=intensity.uncertainty_rel,
        intensity_basis=record.basis,
        pue=footprint.pue,
        pue_source=footprint.pue_source,
        facility_energy_kwh=footprint.facility_energy_kwh,
        emissions_g=footprint.emissions_g,
        emissions_uncertainty_rel=footprint.emissions_uncertainty_rel,
        water_l=footprint.water_l,
    )


def _with(price: RegionPrice, *, rank: int | None, ratio: float | None, base: RegionPrice) -> RegionPrice:
    from dataclasses import replace

    return replace(price, rank=rank, ratio=ratio, comparable=price.intensity_basis == base.intensity_basis)


def compare_regions(
    energy_kwh: float,
    energy_uncertainty_rel: float = 0.0,
    *,
    providers: Sequence[str] | None = None,
    locations: Sequence[str] | None = None,
    reference: str | None = None,
    near: str | None = None,
    pue: float | None = None,
    wue: float | None = None,
    near_limit: int = 3,
    workload: str = "the work",
) -> RegionComparison:
    """Price ``energy_kwh`` of IT energy (±``energy_uncertainty_rel``) at every region of ``providers`` and at
    each of ``locations`` (every cloud region when neither is given), ranked from the greenest.

    Each location gets its own PUE (its provider's, else the industry average) unless ``pue`` is given.
    ``reference`` is the location the others are compared with (its ratio is 1; it need not be in the set);
    ``near`` (default: the reference) picks the greenest ``near_limit`` compared locations in its country and
    continent.
    """
    import math

    from wattprint.carbon import lookup_location
    from wattprint.core.errors import check_number

    if isinstance(energy_kwh, bool) or not isinstance(energy_kwh, (int, float)) or not math.isfinite(energy_kwh) \
            or energy_kwh < 0:
        raise ConfigError(f"energy_kwh must be a finite number of at least 0, got {energy_kwh!r}")
    energy = float(energy_kwh)
    uncertainty = check_number("energy_uncertainty_rel", energy_uncertainty_rel, minimum=0.0, maximum=10.0)
    if isinstance(near_limit, bool) or not isinstance(near_limit, int) or near_limit < 0:
        raise ConfigError(f"near_limit must be a whole number of at least 0, got {near_limit!r}")
    providers = [providers] if isinstance(providers, str) else providers
    locations = [locations] if isinstance(locations, str) else locations
    prices = [_price(r, energy, uncertainty, pue, wue) for r in _records(providers, locations)]
    prices.sort(key=lambda p: (p.emissions_g, p.key))

    ref_price = None
    if reference is not None:
        ref_record = lookup_location(reference, origin="reference")
        ref_price = next((p for p in prices if p.key == ref_record.key), None)
        if ref_price is None:
            ref_price = _price(ref_record, energy, uncertainty, pue, wue)
    base = ref_price if ref_price is not None else prices[0]
    ratio_to = ref_price.key if ref_price is not None else "greenest"

    def ratio(price: RegionPrice) -> float | None:
        if base.emissions_g > 0:
            return price.emissions_g / base.emissions_g
        return 1.0 if price.emissions_g == 0 else None

    ranked = tuple(_with(p, rank=i + 1, ratio=ratio(p), base=base) for i, p in enumerate(prices))
    by_key = {p.key: p for p in ranked}
    if ref_price is not None:
        ref_price = by_key.get(ref_price.key) or _with(ref_price, rank=None, ratio=ratio(ref_price), base=base)

    near_price = None
    near_country: tuple[RegionPrice, ...] = ()
    near_continent: tuple[RegionPrice, ...] = ()
    near_key = near if near is not None else reference
    if near_key is not None:
        near_record = lookup_location(near_key, origin="near")
        near_price = by_key.get(near_record.key)
        if near_price is None:
            outside = _price(near_record, energy, uncertainty, pue, wue)
            near_price = _with(outside, rank=None, ratio=ratio(outside), base=base)
        if near_record.country:
            near_country = tuple(p for p in ranked if p.country == near_record.country)[:near_limit]
        if near_record.continent:
            near_continent = tuple(p for p in ranked if p.continent == near_record.continent)[:near_limit]
    return RegionComparison(
        workload=workload,
        energy_kwh=energy,
        energy_uncertainty_rel=uncertainty,
        pue_given=pue,
        regions=ranked,
        reference=ref_price,
        ratio_to=ratio_to,
        near=near_price,
        near_country=near_country,
        near_continent=near_continent,
    )


def compare_estimate(
    estimate: Estimate,
    *,
    providers: Sequence[str] | None = None,
    locations: Sequence[str] | None = None,
    reference: str | None = None,
    near: str | None = None,
    pue: float | None = None,
    wue: float | None = None,
    near_limit: int = 3,
) -> RegionComparison:
    """:func:`compare_regions` for the IT energy of an estimate (or a re-priced run), with the estimate's own
    location as the reference unless another is given."""
    if reference is None and estimate.intensity.location_known and estimate.intensity.how_located != "given":
        reference = estimate.intensity.zone
    what = f"run {estimate.run_id[:12]}" if estimate.run_id else "the estimate"
    return compare_regions(
        estimate.energy_kwh, estimate.energy_uncertainty_rel, providers=providers, locations=locations,
        reference=reference, near=near, pue=pue, wue=wue, near_limit=near_limit,
        workload=f"{what}: {_energy(estimate.energy_kwh)} of IT energy over {_hours(estimate.hours)} h",
    )
