"""WattTime API v3: the marginal operating emissions rate (MOER) of a balancing area (an account is required).

A MOER is the emissions rate of the generators that respond to a change in demand: a **marginal** signal, not
the average intensity of the grid. wattprint labels every WattTime value ``marginal`` and never adds it to, or
compares it with, an average; the tracker keeps the two totals apart.

``GET /login`` with the account's name and password (HTTP basic auth) returns ``{token}``, valid for about 30
minutes, sent as ``Authorization: Bearer``; a 401 on a data request logs in again once. Data:
``/v3/historical`` (``start``, ``end``), ``/v3/forecast`` (``horizon_hours``), ``/v3/signal-index`` (a
percentile, 0-100), each with ``region`` and ``signal_type=co2_moer``, answering ``{data: [{point_time, value}],
meta: {region, signal_type, units, data_point_period_seconds, ...}}``; ``/v3/region-from-loc`` (``latitude``,
``longitude``) gives ``{region, region_full_name, signal_type}``. MOER values come in ``lbs_co2_per_mwh`` and
are converted to g/kWh (× 0.45359237); any other unit is refused.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping

from wattprint.carbon.providers.base import (
    LBS_PER_MWH_TO_G_PER_KWH,
    MARGINAL,
    IntensityPoint,
    IntensityProvider,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    SignalIndex,
    coordinates_zone,
    format_utc,
    to_seconds,
    to_unix,
)
from wattprint.core.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.settings.config import Secret

__all__ = ["WattTime"]

_REGION = re.compile(r"^[A-Za-z0-9_]+$")
SIGNAL = "co2_moer"
TOKEN_LIFETIME_S = 25 * 60.0
"""WattTime tokens last 30 minutes; a new one is asked for a little before."""


class WattTime(IntensityProvider):
    name = "watttime"
    title = "WattTime"
    kind = MARGINAL
    period_s = 300.0
    default_url = "https://api.watttime.org"
    licence = "WattTime API terms"
    zone_help = "a WattTime region such as 'CAISO_NORTH', or coordinates 'lat,lon'"
    credentials = {"watttime_username": "username", "watttime_password": "password"}
    credentials_hint = ("intensity_provider = 'watttime' needs an account: set watttime_username and "
                        "watttime_password (WATTPRINT_WATTTIME_USERNAME, WATTPRINT_WATTTIME_PASSWORD)")
    REGION_TTL_S = 86400.0

    def __init__(self, *, username: str | None = None, password: str | Secret | None = None,
                 **options: Any) -> None:
        super().__init__(**options)
        self._username = username
        self._password = password
        self._token: str | None = None
        self._token_at = 0.0
        self._token_lock = threading.Lock()

    # -- zones ---------------------------------------------------------------------------------------------

    @classmethod
    def check_zone(cls, zone: str) -> str:
        if isinstance(zone, str):
            located = coordinates_zone(zone)  # a comma: never a zone name
            if located is not None:
                return located
            if _REGION.match(zone.strip()):
                return zone.strip().upper()
        raise ConfigError(f"intensity_zone {zone!r} is not valid for WattTime: use {cls.zone_help}")

    def region(self, zone: str, *, attempts: int | None = None) -> str:
        """The WattTime region of a zone: itself, or the answer of ``region-from-loc`` for coordinates."""
        zone = self.check_zone(zone)
        if "," not in zone:
            return zone
        lat, lon = zone.split(",")
        what = "v3/region-from-loc"
        data = self._authorised("/v3/region-from-loc", what, {"latitude": lat, "longitude": lon,
                                                                "signal_type": SIGNAL}, self.REGION_TTL_S, attempts)
        region = data.get("region") if isinstance(data, dict) else None
        if not isinstance(region, str) or not _REGION.match(region):
            raise self._bad(f"{what}: missing field 'region'")
        return region

    # -- authentication ------------------------------------------------------------------------------------

    def _login(self, attempts: int | None) -> str:
        if not self._username or self._password is None:
            raise ProviderAuthError("watttime: no account: set watttime_username and watttime_password "
                                    "(WATTPRINT_WATTTIME_USERNAME, WATTPRINT_WATTTIME_PASSWORD)", provider=self.name)
        password = self._password if isinstance(self._password, str) else self._password.reveal()
        data = self.http.get_json(self.url + "/login", what="login", auth=(self._username, password),
                                  attempts=attempts)
        token = data.get("token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise self._bad("login: missing field 'token'")
        return token

    def _bearer(self, attempts: int | None, *, renew: bool = False) -> str:
        with self._token_lock:
            if renew or self._token is None or self.clock() - self._token_at > TOKEN_LIFETIME_S:
                self._token = self._login(attempts)
                self._token_at = self.clock()
            return self._token

    def _authorised(self, path: str, what: str, params: Mapping[str, object], ttl_s: float,
                    attempts: int | None) -> Any:
        renewed = False
        while True:
            headers = {"Authorization": f"Bearer {self._bearer(attempts, renew=renewed)}"}
            try:
                return self._get(path, what=what, params=params, headers=headers, ttl_s=ttl_s, attempts=attempts)
            except ProviderAuthError as error:
                if error.status != 401 or renewed:
                    raise
                renewed = True  # the token expired early: log in again, once

    # -- answers -------------------------------------------------------------------------------------------

    def _series(self, data: Any, what: str, region: str, *, forecast: bool) -> list[IntensityPoint]:
        if not isinstance(data, dict) or not isinstance(data.get("data"), list):
            raise self._bad(f"{what}: missing list 'data'")
        meta = data.get("meta")
        if not isinstance(meta, dict) or "units" not in meta:
            raise self._bad(f"{what}: missing field meta.units")
        units = meta["units"]
        if units != "lbs_co2_per_mwh":
            raise self._bad(f"{what}: unexpected units {units!r} (expected 'lbs_co2_per_mwh' for a MOER)")
        signal = meta.get("signal_type", SIGNAL)
        if signal != SIGNAL:
            raise self._bad(f"{what}: unexpected signal_type {signal!r} (expected {SIGNAL!r})")
        period = meta.get("data_point_period_seconds", self.period_s)
        if isinstance(period, bool) or not isinstance(period, (int, float)) or not 0 < period <= 86400:
            raise self._bad(f"{what}: unexpected data_point_period_seconds {period!r}")
        points = []
        for item in data["data"]:
            if not isinstance(item, dict) or "point_time" not in item or "value" not in item:
                raise self._bad(f"{what}: a data point lacks 'point_time' or 'value'")
            if item["value"] is None:
                continue
            raw = item["value"]
            if isinstance(raw, bool) or not isinstance(raw, (int, float)):
                raise self._bad(f"{what}: non-numeric value {raw!r}")
            start = self._time(item["point_time"], f"{what} point_time")
            points.append(IntensityPoint(
                start_s=start,
                end_s=start + float(period),
                g_per_kwh=self._value(raw * LBS_PER_MWH_TO_G_PER_KWH, what),
                kind=MARGINAL,
                zone=str(meta.get("region") or region),
                source=f"WattTime v3 {what} ({SIGNAL})",
                provider=self.name,
                estimated=forecast,
                forecast=forecast,
                basis="direct",
            ))
        return sorted(points, key=lambda p: p.start_s)

    def historical(self, zone: str, start: object, end: object, *,
                   attempts: int | None = None) -> list[IntensityPoint]:
        start_s, end_s = to_unix(start, what="start"), to_unix(end, what="end")
        region = self.region(zone, attempts=attempts)
        params = {"region": region, "start": format_utc(start_s - self.period_s), "end": format_utc(end_s),
                  "signal_type": SIGNAL}
        ttl = self.HISTORY_TTL_S if end_s < self.clock() - 3600.0 else min(self.LATEST_TTL_S, 120.0)
        data = self._authorised("/v3/historical", "v3/historical", params, ttl, attempts)
        points = self._series(data, "v3/historical", region, forecast=False)
        return [p for p in points if p.end_s > start_s and p.start_s <= end_s]

    history = historical

    def forecast(self, zone: str, horizon: object = 86400.0, *,
                 attempts: int | None = None) -> list[IntensityPoint]:
        horizon_s = to_seconds(horizon, what="horizon")
        region = self.region(zone, attempts=attempts)
        hours = max(1, min(72, int(-(-horizon_s // 3600))))
        params = {"region": region, "signal_type": SIGNAL, "horizon_hours": hours}
        data = self._authorised("/v3/forecast", "v3/forecast", params, self.FORECAST_TTL_S, attempts)
        now = self.clock()
        points = self._series(data, "v3/forecast", region, forecast=True)
        return [p for p in points if p.end_s > now and p.start_s < now + horizon_s]

    def latest(self, zone: str, *, attempts: int | None = None) -> IntensityPoint:
        """The newest measured MOER (``historical`` over the last half hour); on plans without historical data,
        the current period of the forecast (marked estimated)."""
        now = self.clock()
        try:
            points = self.historical(zone, now - 1800.0, now, attempts=attempts)
        except ProviderRateLimited:
            raise
        except ProviderError as error:
            if not isinstance(error, ProviderAuthError) or error.status != 403:
                raise
            points = []
        if points:
            return points[-1]
        current = [p for p in self.forecast(zone, 3600.0, attempts=attempts) if p.start_s <= now + self.period_s]
        if not current:
            raise self._bad("v3/forecast: no value for the current period")
        return current[0]

    def signal_index(self, zone: str, *, attempts: int | None = None) -> SignalIndex:
        """Where now ranks among the coming day's MOER values, 0 (cleanest) to 100 (dirtiest)."""
        region = self.region(zone, attempts=attempts)
        what = "v3/signal-index"
        data = self._authorised("/v3/signal-index", what, {"region": region, "signal_type": SIGNAL},
                                min(self.LATEST_TTL_S, 120.0), attempts)
        if not isinstance(data, dict) or not isinstance(data.get("data"), list) or not data["data"]:
            raise self._bad(f"{what}: missing list 'data'")
        meta: dict[str, Any] = data["meta"] if isinstance(data.get("meta"), dict) else {}
        if meta.get("units") != "percentile":
            raise self._bad(f"{what}: unexpected units {meta.get('units')!r} (expected 'percentile')")
        item = data["data"][0]
        if not isinstance(item, dict) or "value" not in item or "point_time" not in item:
            raise self._bad(f"{what}: a data point lacks 'point_time' or 'value'")
        value = item["value"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
            raise self._bad(f"{what}: a percentile must be 0-100, got {value!r}")
        return SignalIndex(percent=float(value), time_s=self._time(item["point_time"], what), zone=region,
                           provider=self.name, signal=str(meta.get("signal_type", SIGNAL)))
