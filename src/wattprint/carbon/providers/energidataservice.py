"""Energi Data Service (Energinet, Denmark; no key): the CO2 intensity of the two Danish price areas every five
minutes, realised (dataset ``CO2Emis``) and forecast (``CO2EmisProg``), in g/kWh.

Zones: ``DK1`` (west of the Great Belt) and ``DK2`` (east). Requests are ``GET /dataset/<name>`` with ``start``,
``end`` (``YYYY-MM-DDTHH:MM``), ``filter={"PriceArea":["DK1"]}``, ``sort`` and ``limit``; the answer is
``{total, filters, limit, dataset, records: [{Minutes5UTC, Minutes5DK, PriceArea, CO2Emission}]}``. The service
reads ``start``/``end`` in Danish time unless told otherwise, so wattprint asks for two hours more on each side
and keeps the records whose ``Minutes5UTC`` falls in the range.
"""

from __future__ import annotations

import json

from wattprint.carbon.providers.base import (
    AVERAGE,
    IntensityPoint,
    IntensityProvider,
    format_utc,
    to_seconds,
    to_unix,
)
from wattprint.core.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.carbon.intensity import Intensity

__all__ = ["EnergiDataService"]

_MARGIN_S = 2 * 3600.0
_AREAS = ("DK1", "DK2")


def _minute(unix_s: float) -> str:
    return format_utc(unix_s, seconds=False)[:-1]  # no zone designator: the service's own format


class EnergiDataService(IntensityProvider):
    name = "energidataservice"
    title = "Energi Data Service (Energinet)"
    kind = AVERAGE
    period_s = 300.0
    default_url = "https://api.energidataservice.dk"
    licence = "Energi Data Service terms (Energinet open data; attribute Energinet)"
    zone_help = "'DK1' (West Denmark) or 'DK2' (East Denmark)"

    @classmethod
    def check_zone(cls, zone: str) -> str:
        if isinstance(zone, str):
            folded = zone.strip().upper().replace("DK-", "")
            if folded in _AREAS:
                return folded
        raise ConfigError(f"intensity_zone {zone!r} is not valid for Energi Data Service: use {cls.zone_help}")

    @classmethod
    def zone_for(cls, intensity: Intensity) -> str | None:
        for key in (intensity.zone, intensity.grid_zone or ""):
            folded = key.upper().removeprefix("EM:").removeprefix("DK-")
            if folded in _AREAS:
                return folded
        return None  # Denmark as a whole has two areas: intensity_zone must say which

    def _records(self, dataset: str, zone: str, start_s: float, end_s: float, *, newest_first: bool, limit: int,
                 ttl_s: float, attempts: int | None) -> list[IntensityPoint]:
        zone = self.check_zone(zone)
        what = f"dataset/{dataset}"
        params = {
            "start": _minute(start_s - _MARGIN_S),
            "end": _minute(end_s + _MARGIN_S),
            "filter": json.dumps({"PriceArea": [zone]}, separators=(",", ":")),
            "sort": "Minutes5UTC DESC" if newest_first else "Minutes5UTC ASC",
            "limit": limit,
        }
        data = self._get(f"/dataset/{dataset}", what=what, params=params, ttl_s=ttl_s, attempts=attempts)
        if not isinstance(data, dict) or not isinstance(data.get("records"), list):
            raise self._bad(f"{what}: missing list 'records'")
        named = data.get("dataset")
        if named is not None and named != dataset:
            raise self._bad(f"{what}: the answer is for dataset {named!r}")
        points = []
        for record in data["records"]:
            point = self._point(record, zone, what, forecast=dataset.endswith("Prog"))
            if point is not None and point.end_s > start_s and point.start_s <= end_s:
                points.append(point)
        return points

    def _point(self, record: Any, zone: str, what: str, *, forecast: bool) -> IntensityPoint | None:
        if not isinstance(record, dict):
            raise self._bad(f"{what}: expected an object per record")
        missing = [f for f in ("Minutes5UTC", "PriceArea", "CO2Emission") if f not in record]
        if missing:
            raise self._bad(f"{what}: missing field(s) {', '.join(missing)}")
        if record["PriceArea"] != zone:
            return None  # the filter was not applied: not ours
        if record["CO2Emission"] is None:
            return None  # not yet published
        value = self._value(record["CO2Emission"], what)
        start = self._time(record["Minutes5UTC"], f"{what} Minutes5UTC")
        return IntensityPoint(
            start_s=start,
            end_s=start + self.period_s,
            g_per_kwh=value,
            kind=AVERAGE,
            zone=zone,
            source=f"Energi Data Service {what}",
            provider=self.name,
            estimated=False,
            forecast=forecast,
            basis=None,
        )

    def latest(self, zone: str, *, attempts: int | None = None) -> IntensityPoint:
        now = self.clock()
        points = self._records("CO2Emis", zone, now - 3 * 3600.0, now, newest_first=True, limit=1,
                               ttl_s=min(self.LATEST_TTL_S, 120.0), attempts=attempts)
        if not points:
            raise self._bad(f"dataset/CO2Emis: no record for {self.check_zone(zone)} in the last three hours")
        return max(points, key=lambda p: p.start_s)

    def history(self, zone: str, start: object, end: object, *, attempts: int | None = None) -> list[IntensityPoint]:
        start_s, end_s = to_unix(start, what="start"), to_unix(end, what="end")
        limit = int((end_s - start_s + 2 * _MARGIN_S) / self.period_s) + 50
        ttl = self.HISTORY_TTL_S if end_s < self.clock() - 3600.0 else min(self.LATEST_TTL_S, 120.0)
        points = self._records("CO2Emis", zone, start_s, end_s, newest_first=False, limit=limit, ttl_s=ttl,
                               attempts=attempts)
        return sorted(points, key=lambda p: p.start_s)

    def forecast(self, zone: str, horizon: object = 86400.0, *,
                 attempts: int | None = None) -> list[IntensityPoint]:
        horizon_s = to_seconds(horizon, what="horizon")
        now = self.clock()
        start = now - now % self.period_s
        limit = int((horizon_s + 2 * _MARGIN_S) / self.period_s) + 50
        points = self._records("CO2EmisProg", zone, start, now + horizon_s, newest_first=False, limit=limit,
                               ttl_s=self.FORECAST_TTL_S, attempts=attempts)
        return sorted(points, key=lambda p: p.start_s)
