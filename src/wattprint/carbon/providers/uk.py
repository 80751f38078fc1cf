"""The Carbon Intensity API of Great Britain (National Energy System Operator; no key): national and regional,
actual and forecast, per half hour, in gCO2/kWh.

Zones: ``GB`` (or ``national``) for Great Britain, ``region:N`` for one of the 17 regions (``region:13`` is
London; 15-17 are England, Scotland and Wales), ``postcode:RG10`` for the region of an outward postcode.
National answers have ``intensity.actual`` (null until measured) and ``intensity.forecast``; regional answers
have only a forecast, which the API also gives for past periods: regional values are marked ``estimated``.

Endpoints: ``/intensity``, ``/intensity/{from}/{to}``, ``/intensity/{from}/fw48h``; ``/regional/regionid/{id}``,
``/regional/intensity/{from}/{to}/regionid/{id}``, ``/regional/intensity/{from}/fw48h/regionid/{id}`` and the
``postcode/{postcode}`` variants. Times are written ``2018-01-20T12:00Z``. The data is CC BY 4.0.
"""

from __future__ import annotations

import re

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

__all__ = ["REGIONS", "UKCarbonIntensity"]

REGIONS = {
    1: "North Scotland", 2: "South Scotland", 3: "North West England", 4: "North East England", 5: "Yorkshire",
    6: "North Wales and Merseyside", 7: "South Wales", 8: "West Midlands", 9: "East Midlands", 10: "East England",
    11: "South West England", 12: "South England", 13: "London", 14: "South East England", 15: "England",
    16: "Scotland", 17: "Wales",
}
"""The API's region ids (its ``regionid``) and short names."""

_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
_MAX_RANGE_S = 13 * 86400.0
"""The API answers ranges of up to 14 days; longer ones are asked in pieces."""


def _minute(unix_s: float) -> str:
    return format_utc(unix_s, seconds=False)


class UKCarbonIntensity(IntensityProvider):
    name = "uk"
    title = "Carbon Intensity API (GB)"
    kind = AVERAGE
    period_s = 1800.0
    default_url = "https://api.carbonintensity.org.uk"
    licence = "CC BY 4.0 (National Energy System Operator, Carbon Intensity API)"
    zone_help = "'GB' (national), 'region:N' with N from 1 to 17, or 'postcode:RG10' (an outward postcode)"

    @classmethod
    def check_zone(cls, zone: str) -> str:
        if isinstance(zone, str):
            text = zone.strip()
            folded = text.lower()
            if folded in ("gb", "national", "great britain"):
                return "GB"
            for prefix in ("region:", "regionid:"):
                if folded.startswith(prefix):
                    number = folded[len(prefix):].strip()
                    if number.isdigit() and int(number) in REGIONS:
                        return f"region:{int(number)}"
            if folded.startswith("postcode:"):
                code = text[len("postcode:"):].strip().upper().replace(" ", "")
                if _POSTCODE.match(code):
                    return f"postcode:{code}"
                if len(code) > 4 and _POSTCODE.match(code[:-3]):  # a full postcode: the API wants the outward part
                    return f"postcode:{code[:-3]}"
        raise ConfigError(f"intensity_zone {zone!r} is not valid for the Carbon Intensity API: use {cls.zone_help}")

    @classmethod
    def zone_for(cls, intensity: Intensity) -> str | None:
        if intensity.zone in ("GB", "em:GB") or intensity.grid_zone == "GB":
            return "GB"
        return None

    def _suffix(self, zone: str) -> str:
        """The path suffix of a regional request (``/regionid/13``, ``/postcode/RG10``); '' for national."""
        zone = self.check_zone(zone)
        if zone == "GB":
            return ""
        kind, value = zone.split(":", 1)
        return f"/regionid/{value}" if kind == "region" else f"/postcode/{value}"

    # -- answers -------------------------------------------------------------------------------------------

    def _periods(self, data: Any, zone: str, what: str) -> list[dict[str, Any]]:
        """The half-hour entries of an answer, national (``data: [...]``) or regional (``data: [{..., data}]``)."""
        if not isinstance(data, dict) or not isinstance(data.get("data"), list):
            raise self._bad(f"{what}: missing list 'data'")
        entries = data["data"]
        if self.check_zone(zone) == "GB":
            return entries
        periods: list[dict[str, Any]] = []
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("data"), list):
                raise self._bad(f"{what}: a regional entry lacks its list 'data'")
            periods.extend(entry["data"])
        return periods

    def _point(self, item: Any, zone: str, what: str, *, as_forecast: bool) -> IntensityPoint:
        if not isinstance(item, dict):
            raise self._bad(f"{what}: expected an object per period")
        missing = [f for f in ("from", "to", "intensity") if f not in item]
        if missing or not isinstance(item["intensity"], dict):
            raise self._bad(f"{what}: missing field(s) {', '.join(missing or ['intensity'])}")
        start = self._time(item["from"], f"{what} from")
        end = self._time(item["to"], f"{what} to")
        if end <= start:
            raise self._bad(f"{what}: period ends before it starts ({item['from']!r} to {item['to']!r})")
        intensity = item["intensity"]
        national = self.check_zone(zone) == "GB"
        actual = intensity.get("actual") if national else None
        if actual is None and "forecast" not in intensity:
            raise self._bad(f"{what}: missing field intensity.forecast")
        value = self._value(actual if actual is not None else intensity.get("forecast"), what)
        return IntensityPoint(
            start_s=start,
            end_s=end,
            g_per_kwh=value,
            kind=AVERAGE,
            zone=zone,
            source=f"Carbon Intensity API {'national' if national else 'regional'} {what}",
            provider=self.name,
            estimated=actual is None,
            forecast=as_forecast and actual is None and end > self.clock(),
            basis=None,
        )

    def latest(self, zone: str, *, attempts: int | None = None) -> IntensityPoint:
        zone = self.check_zone(zone)
        suffix = self._suffix(zone)
        path = "/intensity" if not suffix else "/regional" + suffix
        what = path.lstrip("/")
        data = self._get(path, what=what, ttl_s=self.LATEST_TTL_S, attempts=attempts)
        periods = self._periods(data, zone, what)
        if not periods:
            raise self._bad(f"{what}: no period in the answer")
        return self._point(periods[0], zone, what, as_forecast=False)

    def history(self, zone: str, start: object, end: object, *, attempts: int | None = None) -> list[IntensityPoint]:
        zone = self.check_zone(zone)
        start_s, end_s = to_unix(start, what="start"), to_unix(end, what="end")
        suffix = self._suffix(zone)
        points: dict[float, IntensityPoint] = {}
        piece = start_s - self.period_s
        while piece < end_s:
            until = min(end_s, piece + _MAX_RANGE_S)
            span = f"{_minute(piece)}/{_minute(until)}"
            path = f"/intensity/{span}" if not suffix else f"/regional/intensity/{span}{suffix}"
            what = "intensity/{from}/{to}" if not suffix else "regional/intensity/{from}/{to}"
            ttl = self.HISTORY_TTL_S if until < self.clock() - self.period_s else self.LATEST_TTL_S
            data = self._get(path, what=what, ttl_s=ttl, attempts=attempts)
            for item in self._periods(data, zone, what):
                point = self._point(item, zone, what, as_forecast=False)
                if point.end_s > start_s and point.start_s <= end_s:
                    points[point.start_s] = point
            piece = until
        return [points[k] for k in sorted(points)]

    def forecast(self, zone: str, horizon: object = 86400.0, *,
                 attempts: int | None = None) -> list[IntensityPoint]:
        zone = self.check_zone(zone)
        horizon_s = min(to_seconds(horizon, what="horizon"), 48 * 3600.0)
        now = self.clock()
        suffix = self._suffix(zone)
        start = _minute(now - now % self.period_s)
        path = f"/intensity/{start}/fw48h" if not suffix else f"/regional/intensity/{start}/fw48h{suffix}"
        what = "intensity/{from}/fw48h" if not suffix else "regional/intensity/{from}/fw48h"
        data = self._get(path, what=what, ttl_s=self.FORECAST_TTL_S, attempts=attempts)
        points = [self._point(item, zone, what, as_forecast=True) for item in self._periods(data, zone, what)]
        kept = [p for p in points if p.end_s > now and p.start_s < now + horizon_s]
        return sorted(kept, key=lambda p: p.start_s)
