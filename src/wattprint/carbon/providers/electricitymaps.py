"""Electricity Maps API v3: the carbon intensity of a zone, latest, past and forecast (a key is required).

Requests carry the key in the ``auth-token`` header. A zone is an Electricity Maps zone key (``DE``,
``US-CAL-CISO``, ``DK-DK1``) or coordinates ``lat,lon``. Values are consumption-based averages in gCO2eq/kWh,
lifecycle unless the answer's ``emissionFactorType`` says ``direct``.

Endpoints used: ``/carbon-intensity/latest``, ``/carbon-intensity/history`` (the last 24 hours),
``/carbon-intensity/past-range`` (older ranges) and ``/carbon-intensity/forecast``, each with ``zone=`` or
``lat=``/``lon=``. Answers: ``{zone, carbonIntensity, datetime, updatedAt, emissionFactorType, isEstimated,
estimationMethod, temporalGranularity}``; history ``{zone, history: [...]}`` (past-range ``data: [...]``);
forecast ``{zone, forecast: [{carbonIntensity, datetime}], updatedAt}``.
"""

from __future__ import annotations

import re

from wattprint.carbon.providers.base import (
    AVERAGE,
    IntensityPoint,
    IntensityProvider,
    ProviderAuthError,
    coordinates_zone,
    format_utc,
    to_seconds,
    to_unix,
)
from wattprint.core.errors import ConfigError
from wattprint.settings.hints import docs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.carbon.intensity import Intensity
    from wattprint.settings.config import Secret

__all__ = ["ElectricityMaps"]

_ZONE = re.compile(r"^[A-Za-z]{2}(?:-[A-Za-z0-9]+)*$")
_GRANULARITY_S = {"5_minutes": 300.0, "15_minutes": 900.0, "hourly": 3600.0, "daily": 86400.0}
_UNITS = ("gco2eq/kwh", "gco2e/kwh", "g/kwh")


class ElectricityMaps(IntensityProvider):
    name = "electricitymaps"
    title = "Electricity Maps"
    kind = AVERAGE
    period_s = 3600.0
    default_url = "https://api.electricitymap.org/v3"
    licence = "Electricity Maps API terms (attribute Electricity Maps)"
    zone_help = "an Electricity Maps zone key such as 'DE', 'US-CAL-CISO' or 'DK-DK1', or coordinates 'lat,lon'"
    credentials = {"electricitymaps_token": "token"}
    credentials_hint = ("intensity_provider = 'electricitymaps' needs an API token: set electricitymaps_token "
                        f"(WATTPRINT_ELECTRICITYMAPS_TOKEN); see {docs('live')}")
    HISTORY_WINDOW_S = 86400.0

    def __init__(self, *, token: str | Secret | None = None, **options: Any) -> None:
        super().__init__(**options)
        self._token = token

    def _headers(self) -> dict[str, str]:
        token = self._token
        if token is None:
            raise ProviderAuthError("electricitymaps: no API token: set electricitymaps_token "
                                    "(WATTPRINT_ELECTRICITYMAPS_TOKEN)", provider=self.name)
        value = token if isinstance(token, str) else token.reveal()
        return {"auth-token": value}

    # -- zones ---------------------------------------------------------------------------------------------

    @classmethod
    def check_zone(cls, zone: str) -> str:
        if isinstance(zone, str):
            located = coordinates_zone(zone)  # a comma: never a zone name
            if located is not None:
                return located
            if _ZONE.match(zone.strip()):
                return zone.strip().upper()
        raise ConfigError(f"intensity_zone {zone!r} is not valid for Electricity Maps: use {cls.zone_help}")

    @classmethod
    def zone_for(cls, intensity: Intensity) -> str | None:
        from wattprint.data import lookup_intensity

        candidates = []
        key = intensity.zone
        if key.startswith("em:"):
            candidates.append(key[3:])
        elif intensity.location_kind in ("country", "nordic-zone"):
            record = lookup_intensity(key)
            candidates += [key, *(record.aliases if record is not None else ())]  # SE3 is Electricity Maps' SE-SE3
        if intensity.grid_zone:
            candidates.append(intensity.grid_zone)
        for candidate in candidates:
            record = lookup_intensity("em:" + candidate)
            if record is not None and record.kind == "em-zone":
                return record.key[3:]
        return None

    def _where(self, zone: str) -> dict[str, object]:
        zone = self.check_zone(zone)
        if "," in zone:
            lat, lon = zone.split(",")
            return {"lat": lat, "lon": lon}
        return {"zone": zone}

    # -- answers -------------------------------------------------------------------------------------------

    def _point(self, item: Any, zone: str, what: str, *, granularity_s: float, forecast: bool = False,
               required_fields: bool = True) -> IntensityPoint | None:
        if not isinstance(item, dict):
            raise self._bad(f"{what}: expected an object, got {type(item).__name__}")
        if "carbonIntensity" not in item or "datetime" not in item:
            missing = [f for f in ("carbonIntensity", "datetime") if f not in item]
            raise self._bad(f"{what}: missing field(s) {', '.join(missing)}")
        if item["carbonIntensity"] is None and not required_fields:
            return None  # a gap in a series
        unit = item.get("unit", item.get("units"))
        if unit is not None and str(unit).strip().lower() not in _UNITS:
            raise self._bad(f"{what}: unexpected units {unit!r} (expected gCO2eq/kWh)")
        value = self._value(item["carbonIntensity"], what)
        start = self._time(item["datetime"], f"{what} datetime")
        basis = item.get("emissionFactorType")
        return IntensityPoint(
            start_s=start,
            end_s=start + granularity_s,
            g_per_kwh=value,
            kind=AVERAGE,
            zone=str(item.get("zone") or zone),
            source=f"Electricity Maps v3 {what}",
            provider=self.name,
            estimated=bool(item.get("isEstimated")),
            forecast=forecast,
            basis=basis if isinstance(basis, str) else "lifecycle",
        )

    def _granularity(self, data: dict[str, Any]) -> float:
        return _GRANULARITY_S.get(str(data.get("temporalGranularity") or "hourly"), self.period_s)

    def latest(self, zone: str, *, attempts: int | None = None) -> IntensityPoint:
        what = "carbon-intensity/latest"
        data = self._get("/carbon-intensity/latest", what=what, params=self._where(zone), headers=self._headers(),
                         ttl_s=self.LATEST_TTL_S, attempts=attempts)
        if not isinstance(data, dict):
            raise self._bad(f"{what}: expected a JSON object")
        point = self._point(data, zone, what, granularity_s=self._granularity(data))
        assert point is not None
        return point

    def history(self, zone: str, start: object, end: object, *, attempts: int | None = None) -> list[IntensityPoint]:
        start_s, end_s = to_unix(start, what="start"), to_unix(end, what="end")
        where = self._where(zone)
        if start_s >= self.clock() - self.HISTORY_WINDOW_S:
            what = "carbon-intensity/history"
            data = self._get("/carbon-intensity/history", what=what, params=where, headers=self._headers(),
                             ttl_s=self.LATEST_TTL_S, attempts=attempts)
        else:
            what = "carbon-intensity/past-range"
            params = {**where, "start": format_utc(start_s), "end": format_utc(end_s)}
            data = self._get("/carbon-intensity/past-range", what=what, params=params, headers=self._headers(),
                             ttl_s=self.HISTORY_TTL_S, attempts=attempts)
        if not isinstance(data, dict):
            raise self._bad(f"{what}: expected a JSON object")
        items = data.get("history", data.get("data"))
        if not isinstance(items, list):
            raise self._bad(f"{what}: missing list 'history'")
        granularity = self._granularity(data)
        points = [self._point(item, zone, what, granularity_s=granularity, required_fields=False) for item in items]
        kept = [p for p in points if p is not None and p.end_s > start_s and p.start_s <= end_s]
        return sorted(kept, key=lambda p: p.start_s)

    def forecast(self, zone: str, horizon: object = 86400.0, *,
                 attempts: int | None = None) -> list[IntensityPoint]:
        horizon_s = to_seconds(horizon, what="horizon")
        what = "carbon-intensity/forecast"
        data = self._get("/carbon-intensity/forecast", what=what, params=self._where(zone), headers=self._headers(),
                         ttl_s=self.FORECAST_TTL_S, attempts=attempts)
        if not isinstance(data, dict):
            raise self._bad(f"{what}: expected a JSON object")
        items = data.get("forecast")
        if not isinstance(items, list):
            raise self._bad(f"{what}: missing list 'forecast'")
        now = self.clock()
        points = [self._point(item, zone, what, granularity_s=self.period_s, forecast=True, required_fields=False)
                  for item in items]
        kept = [p for p in points if p is not None and p.end_s > now - self.period_s and p.start_s < now + horizon_s]
        return sorted(kept, key=lambda p: p.start_s)
