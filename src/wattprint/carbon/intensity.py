"""Grid carbon intensity as wattprint uses it: a figure, where it came from, how uncertain, how it was located.

An :class:`Intensity` is built from one row of the embedded intensity tables (``wattprint.data``) and the way
the location was decided. Its ``uncertainty_rel`` is one relative standard uncertainty chosen by the rules in
:func:`intensity_uncertainty` (documented with their reasons in docs/carbon.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.data import IntensityRecord

__all__ = [
    "AGE_UNCERTAINTY_PER_YEAR",
    "BASE_UNCERTAINTY",
    "CLOUD_MAPPING_UNCERTAINTY",
    "GEOLOCATION_UNCERTAINTY",
    "HOW_ARGUMENT",
    "HOW_CONFIG",
    "HOW_GEOLOCATION",
    "HOW_UNKNOWN",
    "UNDATED_UNCERTAINTY",
    "UNKNOWN_LOCATION_UNCERTAINTY",
    "Intensity",
    "current_year",
    "how_cloud_metadata",
    "intensity_from_record",
    "intensity_uncertainty",
    "source_with_year",
]

HOW_ARGUMENT = "argument"
"""The location was passed explicitly (``location="FR"``)."""
HOW_CONFIG = "config"
"""The location came from ``WATTPRINT_LOCATION``, a project file or the user config file."""
HOW_GEOLOCATION = "ip geolocation"
"""An IP geolocation service placed the machine (only when the user enabled it)."""
HOW_UNKNOWN = "location unknown"
"""Nothing answered: the world average is used, with a wide uncertainty."""


def how_cloud_metadata(provider: str) -> str:
    """The ``how_located`` of a location read from a cloud's instance metadata: ``"cloud metadata (gcp)"``."""
    return f"cloud metadata ({provider})"


AVERAGE = "average"
MARGINAL = "marginal"

# One relative standard uncertainty per table kind, for a yearly average used to price a specific place and
# hour. Reasons in docs/carbon.md ("Intensity uncertainties").
BASE_UNCERTAINTY: dict[str, float] = {
    "world": 0.10,
    "country": 0.10,
    "em-zone": 0.10,
    "us-state": 0.15,
    "egrid": 0.15,
    "in-state": 0.15,
    "nordic-zone": 0.15,
    "cn-province": 0.20,
    "ca-province": 0.20,
}
CLOUD_OWN_UNCERTAINTY = 0.10
"""A provider's own yearly figure for the grid of a region (Google's region-carbon-info)."""
CLOUD_CCF_UNCERTAINTY = 0.20
"""Cloud Carbon Footprint's coarse factors (a whole NERC region, a country, a geography)."""
CLOUD_MAPPING_UNCERTAINTY = 0.05
"""Added (in quadrature) when a cloud region is priced with the factor of the grid zone it was mapped to."""
AGE_UNCERTAINTY_PER_YEAR = 0.03
"""Added per year by which the data is older than the usual one-year publication lag."""
UNDATED_UNCERTAINTY = 0.15
"""Added (in quadrature) when the source does not state its data year (Cloud Carbon Footprint)."""
GEOLOCATION_UNCERTAINTY = 0.05
"""Added (in quadrature) when IP geolocation placed the machine: VPNs and proxies can put it elsewhere."""
UNKNOWN_LOCATION_UNCERTAINTY = 0.60
"""The world average standing in for an unknown location (country averages spread by about 52 % of it)."""


@dataclass(frozen=True)
class Intensity:
    """A carbon intensity in gCO2e per kWh, with its provenance and how the location was decided.

    ``zone`` is the table key that answered (``"FR"``, ``"US-CA"``, ``"egrid:CAMX"``, ``"gcp:europe-west1"``,
    ``"WORLD"``), ``source`` the dataset and table, ``year`` the data year (None when the source does not state
    it), ``kind`` ``"average"`` for every embedded figure (``"marginal"`` is for live providers),
    ``uncertainty_rel`` one relative standard uncertainty, ``how_located`` one of ``"argument"``, ``"config"``,
    ``"cloud metadata (<provider>)"``, ``"ip geolocation"``, ``"location unknown"``. ``basis`` says what the
    figure counts (``lifecycle``, ``direct``, ``direct-co2``, ``unspecified``). For a cloud region,
    ``provider`` and ``grid_zone`` (the key of the grid it sits in) are set, and ``cfe_share`` is Google's
    hourly carbon-free-energy share where known. ``notes`` are plain-language remarks on how it was found.
    """

    g_per_kwh: float
    zone: str
    zone_name: str
    source: str
    year: int | None
    kind: str
    uncertainty_rel: float
    how_located: str
    licence: str
    provider: str | None = None
    cfe_share: float | None = None
    basis: str | None = None
    location_kind: str | None = None
    grid_zone: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def location_known(self) -> bool:
        """False when the world average stands in for a location nobody gave."""
        return self.how_located != HOW_UNKNOWN

    def describe(self) -> str:
        """One line: ``"44 gCO2e/kWh ±10 % (France, FR; Ember ..., 2024; average, lifecycle; located by argument)"``."""
        where = f"{self.zone_name}, {self.zone}" if self.zone_name != self.zone else self.zone
        how = self.how_located if self.how_located == HOW_UNKNOWN else f"located by {self.how_located}"
        basis = f", {self.basis}" if self.basis else ""
        return (
            f"{self.g_per_kwh:.4g} gCO2e/kWh ±{self.uncertainty_rel * 100:.0f} % ({where}; "
            f"{source_with_year(self.source, self.year)}; {self.kind}{basis}; {how})"
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        from wattprint.core.codec import to_dict

        return to_dict(self)


NO_YEAR = "data year not stated"
"""What a figure whose source gives no data year says instead of a year (never "undated" beside a dated source)."""


def source_with_year(source: str, year: int | None) -> str:
    """``"Ember yearly (...), 2024"``; a source without a data year says so once (``"..., data year not stated"``)."""
    if year is not None:
        return f"{source}, {year}"
    return source if NO_YEAR in source else f"{source}, {NO_YEAR}"


def _age_term(year: int | None, reference_year: int) -> float:
    if year is None:
        return UNDATED_UNCERTAINTY
    return AGE_UNCERTAINTY_PER_YEAR * max(0, reference_year - year - 1)


def _base(record: IntensityRecord) -> tuple[float, float]:
    """The base uncertainty of a row and the extra term for mapping a cloud region to a grid zone."""
    if record.kind != "cloud-region":
        return BASE_UNCERTAINTY.get(record.kind, 0.20), 0.0
    factor = record.grid_factor or ""
    if factor.startswith("ccf:"):
        return CLOUD_CCF_UNCERTAINTY, 0.0
    if factor.startswith("zone:"):
        from wattprint.data import lookup_intensity

        zone = lookup_intensity(factor[len("zone:"):])
        base = BASE_UNCERTAINTY.get(zone.kind, 0.20) if zone is not None else 0.20
        return base, CLOUD_MAPPING_UNCERTAINTY
    return CLOUD_OWN_UNCERTAINTY, 0.0


def current_year() -> int:
    """This year (UTC)."""
    import time

    return time.gmtime().tm_year


def intensity_uncertainty(record: IntensityRecord, how_located: str, *, reference_year: int | None = None) -> float:
    """The relative standard uncertainty of ``record``'s figure used to price energy in ``reference_year``.

    Independent terms added in quadrature: the table kind's base (10 % for a national or Electricity Maps
    yearly average, 15-20 % for sub-national and derived mixes, 10-20 % for cloud regions), 3 % per year of
    age beyond the usual one-year lag (15 % when undated), 5 % when a cloud region was mapped to a grid zone,
    5 % when IP geolocation placed the machine. The world average standing in for an unknown location is 60 %.
    """
    reference = current_year() if reference_year is None else reference_year
    age = _age_term(record.year, reference)
    if how_located == HOW_UNKNOWN:
        return math.hypot(UNKNOWN_LOCATION_UNCERTAINTY, age)
    base, mapping = _base(record)
    located = GEOLOCATION_UNCERTAINTY if how_located == HOW_GEOLOCATION else 0.0
    return math.sqrt(base**2 + age**2 + mapping**2 + located**2)


def intensity_from_record(
    record: IntensityRecord,
    how_located: str,
    *,
    reference_year: int | None = None,
    notes: tuple[str, ...] = (),
) -> Intensity:
    """An :class:`Intensity` for one table row located by ``how_located`` (uncertainty per the rules above)."""
    return Intensity(
        g_per_kwh=record.intensity_g_per_kwh,
        zone=record.key,
        zone_name=record.name,
        source=record.source,
        year=record.year,
        kind=AVERAGE,
        uncertainty_rel=intensity_uncertainty(record, how_located, reference_year=reference_year),
        how_located=how_located,
        licence=record.licence,
        provider=record.provider,
        cfe_share=record.cfe_fraction,
        basis=record.basis,
        location_kind=record.kind,
        grid_zone=record.zone,
        notes=notes,
    )
