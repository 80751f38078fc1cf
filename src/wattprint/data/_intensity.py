"""Grid carbon intensity by location: countries, sub-national zones, cloud regions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from ._io import opt_float, opt_int, opt_str, read_table, read_text
from ._names import CLOUD_PROVIDERS, canonical_location_key

__all__ = [
    "INTENSITY_KINDS",
    "IntensityRecord",
    "cloud_regions",
    "intensity_records",
    "lookup_cloud_region",
    "lookup_intensity",
    "search_intensity",
    "world_intensity",
]

#: The ``kind`` of every intensity row.
INTENSITY_KINDS = (
    "world",
    "country",
    "us-state",
    "egrid",
    "in-state",
    "cn-province",
    "ca-province",
    "nordic-zone",
    "em-zone",
    "cloud-region",
)

_MAIN_TABLE = "intensity.csv"
_ODBL_TABLE = "intensity_electricitymaps.csv"


@dataclass(frozen=True)
class IntensityRecord:
    """One location's average grid carbon intensity, with where it came from.

    ``basis`` says what the figure counts: ``lifecycle`` (generation plus upstream emissions,
    gCO2e/kWh), ``direct`` (combustion at the plant, CO2e), ``direct-co2`` (combustion, CO2 only)
    or ``unspecified`` (the source does not say). ``year`` is the data year, None when the source
    does not state it. Cloud regions also carry ``provider``, ``region``, the ``zone`` key of the
    grid they sit in, the ``grid_factor`` their figure uses and, for Google Cloud, Google's hourly
    carbon-free-energy share ``cfe_fraction`` (0-1).
    """

    key: str
    kind: str
    name: str
    country: str | None
    continent: str | None
    intensity_g_per_kwh: float
    year: int | None
    basis: str
    source: str
    licence: str
    note: str
    aliases: tuple[str, ...] = ()
    provider: str | None = None
    region: str | None = None
    zone: str | None = None
    grid_factor: str | None = None
    cfe_fraction: float | None = None
    renewable_fraction: float | None = None

    @property
    def is_odbl(self) -> bool:
        """True for Electricity Maps values, which are under the ODbL (see ELECTRICITYMAPS_ODbL_NOTICE.md)."""
        return self.licence == "ODbL-1.0"


def _record(row: dict[str, str]) -> IntensityRecord:
    return IntensityRecord(
        key=row["key"],
        kind=row["kind"],
        name=row["name"],
        country=opt_str(row["country"]),
        continent=opt_str(row["continent"]),
        intensity_g_per_kwh=float(row["intensity_g_per_kwh"]),
        year=opt_int(row["year"]),
        basis=row["basis"],
        source=row["source"],
        licence=row["licence"],
        note=row["note"],
        aliases=tuple(a for a in row["aliases"].split(";") if a),
        provider=opt_str(row["provider"]),
        region=opt_str(row["region"]),
        zone=opt_str(row["zone"]),
        grid_factor=opt_str(row["grid_factor"]),
        cfe_fraction=opt_float(row["cfe_fraction"]),
        renewable_fraction=opt_float(row["renewable_fraction"]),
    )


@cache
def _records(table: str) -> tuple[IntensityRecord, ...]:
    return tuple(_record(row) for row in read_table(table))


@cache
def _index(table: str) -> dict[str, IntensityRecord]:
    index: dict[str, IntensityRecord] = {}
    for record in _records(table):
        for name in (record.key, *record.aliases):
            index[canonical_location_key(name)] = record
    return index


def lookup_intensity(key: str) -> IntensityRecord | None:
    """The intensity row for a location key or alias, or None when there is none.

    Keys are case-insensitive: ``"FR"`` or ``"FRA"`` (country, ISO 3166-1 alpha-2 or alpha-3),
    ``"WORLD"``, ``"US-CA"`` / ``"IN-MH"`` / ``"CN-BJ"`` / ``"CA-QC"`` (ISO 3166-2),
    ``"SE3"`` / ``"NO1"`` (Nordic bidding zones; ``"FI"`` is the country), ``"egrid:CAMX"``,
    ``"em:US-CAL-CISO"`` (Electricity Maps zone, ODbL), and ``"<provider>:<region>"`` for cloud
    regions (``"gcp:europe-west1"``, ``"aws:us-east-1"``, ``"azure:westeurope"``, ``"ovh:gra"``).
    """
    if not key or not key.strip():
        return None
    canonical = canonical_location_key(key)
    table = _ODBL_TABLE if canonical.startswith("em:") else _MAIN_TABLE
    if _index.cache_info().currsize or canonical.partition(":")[0] in CLOUD_PROVIDERS:
        return _index(table).get(canonical)
    return _lookup_cold(table, canonical)


def _lookup_cold(table: str, canonical: str) -> IntensityRecord | None:
    """The record of one key found without parsing the whole table: the first footprint of a process looks up
    one location (often the world average), and building the index for it cost most of the first ``stop()``.

    Lines are prefiltered by substring (one table row is one line) and the last row naming the key wins, as in
    the index. Cloud-region names lose spaces when made canonical, so those always go through the index.
    """
    import csv

    lines = read_text(table).splitlines()
    hits = [line for line in lines[1:] if canonical in line.casefold()]
    found = None
    for row in csv.DictReader(hits, fieldnames=next(csv.reader(lines[:1]))):
        names = (row["key"], *row["aliases"].split(";"))
        if any(name and canonical_location_key(name) == canonical for name in names):
            found = row
    return None if found is None else _record(found)


def world_intensity() -> IntensityRecord:
    """The world average (Ember's "World" row)."""
    record = lookup_intensity("WORLD")
    if record is None:  # pragma: no cover - the build always writes it
        raise LookupError("intensity.csv has no WORLD row; rebuild the data with scripts/build_data.py")
    return record


def intensity_records(
    *,
    kind: str | None = None,
    country: str | None = None,
    include_electricitymaps: bool = False,
) -> tuple[IntensityRecord, ...]:
    """All intensity rows, optionally of one ``kind`` and/or one ISO alpha-2 ``country``.

    Electricity Maps zones (ODbL) are included only with ``include_electricitymaps=True``
    (or ``kind="em-zone"``).
    """
    if kind is not None and kind not in INTENSITY_KINDS:
        raise ValueError(f"unknown intensity kind {kind!r}; expected one of {', '.join(INTENSITY_KINDS)}")
    records = _records(_MAIN_TABLE)
    if include_electricitymaps or kind == "em-zone":
        records = records + _records(_ODBL_TABLE)
    wanted_country = country.upper() if country else None
    return tuple(
        r
        for r in records
        if (kind is None or r.kind == kind) and (wanted_country is None or r.country == wanted_country)
    )


def search_intensity(
    query: str,
    *,
    kinds: Iterable[str] | None = None,
    include_electricitymaps: bool = True,
    limit: int | None = 20,
) -> list[IntensityRecord]:
    """Rows whose key, alias, name, region or zone contains ``query`` (case-insensitive), or that lie in the
    continent or country it names, best first.

    Exact key or alias matches come first, then keys (or a cloud key's region) starting with the query, then names
    starting with it, then any other match in a key or name, then the rows in a country whose name contains the
    query (``"france"``: FR, ``aws:eu-west-3``, ``gcp:europe-west9``, ...) or in the continent it names
    (``"europe"``: every European country, zone and cloud region, AWS ``eu-*`` included).
    """
    q = query.strip().casefold()
    if not q:
        return []
    wanted = set(kinds) if kinds is not None else None
    records = _records(_MAIN_TABLE) + (_records(_ODBL_TABLE) if include_electricitymaps else ())
    canonical = canonical_location_key(query)
    country_names = _country_names()
    scored: list[tuple[int, str, IntensityRecord]] = []
    for r in records:
        if wanted is not None and r.kind not in wanted:
            continue
        keys = [canonical_location_key(k) for k in (r.key, *r.aliases)]
        name = r.name.casefold()
        if canonical in keys:
            rank = 0
        elif any(k.startswith(q) or k.split(":", 1)[-1].startswith(q) for k in keys):
            rank = 1
        elif name.startswith(q):
            rank = 2
        elif any(q in field for field in (name, *keys, (r.region or "").casefold(), (r.zone or "").casefold())):
            rank = 3
        elif len(q) >= 3 and r.country and q in country_names.get(r.country, ""):
            rank = 4
        elif len(q) >= 4 and r.continent and r.continent.casefold().startswith(q):
            rank = 5
        else:
            continue
        scored.append((rank, r.key.casefold(), r))
    scored.sort(key=lambda t: (t[0], INTENSITY_KINDS.index(t[2].kind), t[1]))
    found = [r for _, _, r in scored]
    return found[:limit] if limit is not None else found


@cache
def _country_names() -> dict[str, str]:
    """ISO alpha-2 -> the country's name, case-folded (from the country rows)."""
    return {r.country: r.name.casefold() for r in _records(_MAIN_TABLE) if r.kind == "country" and r.country}


def cloud_regions(provider: str | None = None) -> tuple[IntensityRecord, ...]:
    """Cloud-region rows, optionally of one provider (``"gcp"``, ``"aws"``, ``"azure"``, ``"ovh"``, ...)."""
    rows = intensity_records(kind="cloud-region")
    if provider is None:
        return rows
    wanted = canonical_location_key(f"{provider}:x").split(":", 1)[0]
    return tuple(r for r in rows if r.provider == wanted)


def lookup_cloud_region(provider: str, region: str) -> IntensityRecord | None:
    """The row of one cloud region (``lookup_cloud_region("azure", "West Europe")``), or None."""
    return lookup_intensity(f"{provider}:{region}")
