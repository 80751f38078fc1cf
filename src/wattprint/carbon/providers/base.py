"""The one small interface every live carbon intensity provider implements, and what they share.

A provider answers three questions for a zone: :meth:`IntensityProvider.latest` (the value valid now),
:meth:`IntensityProvider.history` (values between two instants) and :meth:`IntensityProvider.forecast` (values
from now on). Each answer is a list of frozen :class:`IntensityPoint` s in gCO2e per kWh, labelled ``average``
or ``marginal``; a provider that reports other units converts them here, and refuses units it does not know.

HTTP goes through :class:`HttpClient`: httpx (imported only when a provider is used), explicit timeouts,
exponential backoff with jitter on 5xx answers, timeouts and connection errors, ``Retry-After`` honoured on 429.
Answers are cached by :class:`ResponseCache` (in memory, and on disk in the per-user cache directory when
enabled), keyed by provider, path and parameters, never by credentials. Errors are :class:`ProviderError` s
whose messages name the provider, the request path and what went wrong, and never a secret.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import random
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

from wattprint.core.errors import ConfigError, WattprintError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar

    from wattprint.carbon.intensity import Intensity

__all__ = [
    "coordinates_zone",
    "AVERAGE",
    "MARGINAL",
    "LBS_PER_MWH_TO_G_PER_KWH",
    "MAX_PLAUSIBLE_G_PER_KWH",
    "HttpClient",
    "IntensityPoint",
    "IntensityProvider",
    "ProviderAuthError",
    "ProviderError",
    "ProviderRateLimited",
    "ProviderResponseError",
    "ProviderUnavailable",
    "ResponseCache",
    "RetryPolicy",
    "SignalIndex",
    "format_utc",
    "parse_time",
    "to_unix",
]

AVERAGE = "average"
"""The intensity of the electricity consumed (or produced) in a zone: what location-based accounting uses."""
MARGINAL = "marginal"
"""The emissions of the generator that responds to a change in demand (WattTime's MOER); never mixed with
averages."""

LBS_PER_MWH_TO_G_PER_KWH = 0.45359237
"""1 lb = 453.59237 g and 1 MWh = 1,000 kWh, so 1 lb/MWh = 0.45359237 g/kWh."""
MAX_PLAUSIBLE_G_PER_KWH = 3000.0
"""No grid emits more than lignite alone (about 1,100-1,300 g/kWh direct); a value above this is a unit error."""


# -- points ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntensityPoint:
    """A provider's carbon intensity for one period of one zone.

    ``start_s``/``end_s`` are Unix times (the period the value is valid for), ``g_per_kwh`` gCO2e per kWh,
    ``kind`` ``average`` or ``marginal``, ``zone`` the provider's zone, ``source`` the provider and endpoint,
    ``provider`` its short name. ``estimated`` is set when the provider says the value is estimated or modelled
    rather than measured, ``forecast`` when it is a prediction for a period that had not happened when fetched.
    ``basis`` says what is counted (``lifecycle``, ``direct``, ``direct-co2``) where the provider says.
    """

    start_s: float
    end_s: float
    g_per_kwh: float
    kind: str
    zone: str
    source: str
    provider: str
    estimated: bool = False
    forecast: bool = False
    basis: str | None = None

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.start_s, dt.timezone.utc)

    @property
    def end(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.end_s, dt.timezone.utc)

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def covers(self, t: float) -> bool:
        return self.start_s <= t < self.end_s

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["start"] = format_utc(self.start_s)
        data["end"] = format_utc(self.end_s)
        return data


@dataclass(frozen=True)
class SignalIndex:
    """A relative signal (WattTime's ``signal-index``): where now ranks, 0-100, among the coming day's values."""

    percent: float
    time_s: float
    zone: str
    provider: str
    signal: str


# -- errors ------------------------------------------------------------------------------------------------------


class ProviderError(WattprintError):
    """A live provider gave no usable answer. ``retryable`` says whether asking again later may help."""

    retryable = False

    def __init__(self, message: str, *, provider: str = "", status: int | None = None,
                 retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.provider = provider
        self.status = status
        self.retry_after_s = retry_after_s


class ProviderAuthError(ProviderError):
    """The provider refused the credentials (HTTP 401/403), or none were given."""


class ProviderRateLimited(ProviderError):
    """HTTP 429: too many requests; ``retry_after_s`` is the provider's ``Retry-After`` when it sent one."""

    retryable = True


class ProviderUnavailable(ProviderError):
    """A 5xx answer, a timeout or a connection error."""

    retryable = True


class ProviderResponseError(ProviderError):
    """An answer that is not what the provider documents: malformed JSON, missing fields, unexpected units."""


# -- times -------------------------------------------------------------------------------------------------------

_FRACTION = re.compile(r"(\.\d+)")


def parse_time(text: object, *, what: str = "time") -> float:
    """An ISO 8601 time as Unix seconds. ``Z`` and offsets are honoured; a time without one is taken as UTC
    (providers' ``...UTC`` fields); ``2018-01-20T12:00Z`` (no seconds) is accepted. ValueError otherwise."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{what} must be an ISO 8601 string, got {text!r}")
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    match = _FRACTION.search(value)
    if match is not None and len(match.group(1)) != 7:  # Python < 3.11 takes 3 or 6 digits only
        digits = (match.group(1)[1:] + "000000")[:6]
        value = value[: match.start()] + "." + digits + value[match.end():]
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.timestamp()


_COORDINATES = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")


def coordinates_zone(zone: str) -> str | None:
    """``"lat,lon"`` in canonical form when ``zone`` is a valid latitude and longitude, else None."""
    match = _COORDINATES.match(zone)
    if match is None:
        return None
    lat, lon = float(match.group(1)), float(match.group(2))
    return f"{lat:g},{lon:g}" if -90 <= lat <= 90 and -180 <= lon <= 180 else None


def format_utc(unix_s: float, *, seconds: bool = True) -> str:
    """``2026-11-23T18:21:05Z`` (or ``2026-11-23T18:21Z`` without seconds)."""
    moment = dt.datetime.fromtimestamp(unix_s, dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ" if seconds else "%Y-%m-%dT%H:%MZ")


def to_unix(value: object, *, what: str) -> float:
    """A datetime (naive = local time) or Unix seconds as Unix seconds; ConfigError otherwise."""
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    raise ConfigError(f"{what} must be a datetime or Unix seconds, got {value!r}")


def to_seconds(value: object, *, what: str) -> float:
    """A timedelta or a number of seconds (at least 0) as seconds; ConfigError otherwise."""
    if isinstance(value, dt.timedelta):
        value = value.total_seconds()
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0:
        return float(value)
    raise ConfigError(f"{what} must be a timedelta or seconds (at least 0), got {value!r}")


# -- cache -------------------------------------------------------------------------------------------------------


class ResponseCache:
    """Parsed JSON answers by key, each with its own time to live; in memory (LRU) and optionally on disk.

    Keys are digests of provider, URL path and parameters; credentials never enter them, and answers that carry
    a credential (a login token) are never given to the cache. Disk entries are JSON files written atomically;
    any trouble reading or writing them is ignored (the cache is only an optimisation).
    """

    def __init__(self, directory: str | None = None, *, max_entries: int = 256,
                 clock: Callable[[], float] = time.time) -> None:
        self.directory = directory
        self.max_entries = max_entries
        self.clock = clock
        self._memory: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(*parts: object) -> str:
        return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]

    def get(self, key: str) -> Any:
        """The cached answer, or None when there is none or it has expired."""
        now = self.clock()
        with self._lock:
            entry = self._memory.get(key)
            if entry is not None:
                if entry[0] > now:
                    self._memory.move_to_end(key)
                    return entry[1]
                del self._memory[key]
        if self.directory is None:
            return None
        try:
            with open(os.path.join(self.directory, key + ".json"), encoding="utf-8") as handle:
                stored = json.load(handle)
            expires, body = float(stored["expires_at"]), stored["body"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if expires <= now:
            return None
        self._remember(key, expires, body)
        return body

    def put(self, key: str, body: Any, ttl_s: float) -> None:
        if ttl_s <= 0:
            return
        expires = self.clock() + ttl_s
        self._remember(key, expires, body)
        if self.directory is None:
            return
        try:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            path = os.path.join(self.directory, key + ".json")
            temporary = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
            with open(temporary, "w", encoding="utf-8") as handle:
                json.dump({"expires_at": expires, "body": body}, handle)
            os.replace(temporary, path)
        except (OSError, TypeError, ValueError):
            from wattprint import _log

            _log.debug("wattprint: the intensity cache in %s cannot be written", self.directory, exc_info=True)

    def _remember(self, key: str, expires: float, body: Any) -> None:
        with self._lock:
            self._memory[key] = (expires, body)
            self._memory.move_to_end(key)
            while len(self._memory) > self.max_entries:
                self._memory.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._memory.clear()


def default_cache_dir() -> str:
    """``<per-user cache dir>/wattprint/intensity`` (``$XDG_CACHE_HOME`` on Linux)."""
    import platformdirs

    return os.path.join(platformdirs.user_cache_dir("wattprint", appauthor=False), "intensity")


# -- HTTP --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """How often to ask again: ``attempts`` in all; waits of ``base_s`` × 2^(n-1), at most ``max_delay_s``, each
    scaled by a random factor in [0.5, 1] (jitter); a 429's ``Retry-After`` is honoured up to ``max_wait_s``."""

    attempts: int = 3
    base_s: float = 0.5
    max_delay_s: float = 30.0
    max_wait_s: float = 60.0

    def delay_s(self, failures: int, rng: Callable[[], float] = random.random) -> float:
        """The wait after the ``failures``-th failure in a row (1 for the first)."""
        raw = min(self.max_delay_s, self.base_s * 2.0 ** max(0, failures - 1))
        return raw * (0.5 + 0.5 * rng())


def _retry_after(value: str | None, now: float) -> float | None:
    """``Retry-After`` as seconds from now: delay-seconds or an HTTP date; None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, when.timestamp() - now)


def _message_of(body: str) -> str:
    """The provider's own error message from a JSON error body (``message``, ``error``, ``detail``), shortened."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for name in ("message", "error", "detail", "title"):
            value = data.get(name)
            if isinstance(value, str) and value.strip():
                return value.strip()[:200]
    text = " ".join(body.split())
    return text[:120]


class HttpClient:
    """GET requests answering JSON, with explicit timeouts, backoff with jitter and ``Retry-After``.

    ``sleep``, ``clock`` (wall time, for HTTP dates) and ``rng`` are injectable so tests do not wait. One
    ``httpx.Client`` is kept per instance (connection reuse) and used under a lock: providers are called from
    one background thread at a time, and rarely.
    """

    def __init__(
        self,
        provider: str,
        *,
        timeout_s: float = 5.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.provider = provider
        self.timeout_s = timeout_s
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self.rng = rng
        self._client: Any = None
        self._lock = threading.Lock()

    def _httpx_client(self) -> Any:
        if self._client is None:
            import httpx

            self._client = httpx.Client(follow_redirects=False, headers={"Accept": "application/json"})
        return self._client

    def get_json(
        self,
        url: str,
        *,
        what: str,
        params: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        attempts: int | None = None,
        timeout_s: float | None = None,
    ) -> Any:
        """The parsed JSON answer of ``GET url``; ``what`` names the request in errors (no secrets in it).

        Retries 5xx answers, timeouts and connection errors, and 429s (waiting ``Retry-After`` when given and
        not longer than the policy's ``max_wait_s``), ``attempts`` times in all. 401/403 raise
        ProviderAuthError, other 4xx ProviderError, an answer that is not JSON ProviderResponseError.
        """
        import httpx

        tries = max(1, self.retry.attempts if attempts is None else attempts)
        timeout = httpx.Timeout(self.timeout_s if timeout_s is None else timeout_s)
        failures = 0
        while True:
            try:
                with self._lock:
                    response = self._httpx_client().get(
                        url, params=dict(params or {}), headers=dict(headers or {}), auth=auth, timeout=timeout
                    )
                    status = response.status_code
                    body = response.text
                    retry_after = response.headers.get("Retry-After")
                error = self._error_of(status, body, retry_after, what)
            except httpx.TimeoutException:
                limit = self.timeout_s if timeout_s is None else timeout_s
                error = ProviderUnavailable(f"{self.provider}: no answer to {what} within {limit:g} s",
                                            provider=self.provider)
            except httpx.HTTPError as exc:
                error = ProviderUnavailable(f"{self.provider}: {what} failed ({type(exc).__name__})",
                                            provider=self.provider)
            if error is None:
                try:
                    return json.loads(body)
                except ValueError:
                    raise ProviderResponseError(
                        f"{self.provider}: the answer to {what} is not valid JSON ({body[:60]!r})",
                        provider=self.provider, status=status,
                    ) from None
            failures += 1
            if not error.retryable or failures >= tries:
                raise error
            wait = self.retry.delay_s(failures, self.rng)
            if isinstance(error, ProviderRateLimited) and error.retry_after_s is not None:
                if error.retry_after_s > self.retry.max_wait_s:
                    raise error
                wait = error.retry_after_s
            self.sleep(wait)

    def _error_of(self, status: int, body: str, retry_after: str | None, what: str) -> ProviderError | None:
        if 200 <= status < 300:
            return None
        detail = _message_of(body)
        said = f": {detail}" if detail else ""
        if status in (401, 403):
            return ProviderAuthError(f"{self.provider}: {what} was refused (HTTP {status}){said}; check the "
                                     "credentials and the plan's access", provider=self.provider, status=status)
        if status == 429:
            after = _retry_after(retry_after, self.clock())
            wait = f"; retry after {after:g} s" if after is not None else ""
            return ProviderRateLimited(f"{self.provider}: too many requests for {what} (HTTP 429){wait}",
                                       provider=self.provider, status=status, retry_after_s=after)
        if status >= 500:
            return ProviderUnavailable(f"{self.provider}: {what} failed with HTTP {status}{said}",
                                       provider=self.provider, status=status)
        return ProviderError(f"{self.provider}: {what} failed with HTTP {status}{said}",
                             provider=self.provider, status=status)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


# -- the interface -----------------------------------------------------------------------------------------------


def _check_value(provider: str, value: object, what: str) -> float:
    """A g/kWh figure from an answer, refused when it is not a plausible one."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ProviderResponseError(f"{provider}: {what} has no numeric intensity (got {value!r})", provider=provider)
    if not 0.0 <= value <= MAX_PLAUSIBLE_G_PER_KWH:
        raise ProviderResponseError(
            f"{provider}: {what} gives {value!r}, outside 0-{MAX_PLAUSIBLE_G_PER_KWH:g} gCO2e/kWh: unexpected units",
            provider=provider,
        )
    return float(value)


class IntensityProvider:
    """A live carbon intensity source. Subclasses set the class attributes and implement the three calls.

    ``url`` overrides the public base URL (a proxy, or a test server on 127.0.0.1); ``timeout_s`` bounds each
    request; ``cache`` is shared by every call; ``http`` may be given to inject sleeps and clocks.
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    kind: ClassVar[str] = AVERAGE
    period_s: ClassVar[float] = 3600.0
    """The spacing of the provider's values."""
    default_url: ClassVar[str] = ""
    licence: ClassVar[str] = ""
    has_forecast: ClassVar[bool] = True
    zone_help: ClassVar[str] = ""
    """What ``intensity_zone`` accepts for this provider, for error messages."""
    credentials: ClassVar[Mapping[str, str]] = {}
    """The settings keys this provider needs, each mapped to the constructor argument it is passed as."""
    credentials_hint: ClassVar[str] = ""
    """The ConfigError message when one of ``credentials`` is not set (default: names the keys to set)."""

    LATEST_TTL_S = 300.0
    HISTORY_TTL_S = 3600.0
    FORECAST_TTL_S = 600.0

    def __init__(
        self,
        *,
        url: str | None = None,
        timeout_s: float = 5.0,
        cache: ResponseCache | None = None,
        http: HttpClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = (url or self.default_url).rstrip("/")
        self.cache = cache if cache is not None else ResponseCache(clock=clock)
        self.http = http if http is not None else HttpClient(self.name, timeout_s=timeout_s, clock=clock)
        self.clock = clock

    def __repr__(self) -> str:  # never shows credentials
        return f"<{type(self).__name__} {self.url}>"

    # -- what subclasses implement --------------------------------------------------------------------

    def latest(self, zone: str, *, attempts: int | None = None) -> IntensityPoint:
        """The value valid now."""
        raise NotImplementedError

    def history(self, zone: str, start: object, end: object, *, attempts: int | None = None) -> list[IntensityPoint]:
        """Values of the periods overlapping [start, end] (datetimes or Unix seconds), oldest first."""
        raise NotImplementedError

    def forecast(self, zone: str, horizon: object = 86400.0, *,
                 attempts: int | None = None) -> list[IntensityPoint]:
        """Values from the current period up to ``horizon`` (seconds or a timedelta) ahead, oldest first."""
        raise NotImplementedError

    @classmethod
    def check_zone(cls, zone: str) -> str:
        """``zone`` in the provider's spelling; ConfigError when it cannot be one of the provider's zones."""
        raise NotImplementedError

    @classmethod
    def zone_for(cls, intensity: Intensity) -> str | None:
        """The provider's zone for a resolved location, or None when there is no safe mapping."""
        return None

    @classmethod
    def check_settings(cls, config: Any) -> None:
        """ConfigError, before anything runs, when a credential is missing or ``intensity_zone`` is malformed."""
        if any(config.get(key) is None for key in cls.credentials):
            keys = list(cls.credentials)
            variables = ", ".join("WATTPRINT_" + key.upper() for key in keys)
            raise ConfigError(cls.credentials_hint or f"intensity_provider = {cls.name!r} needs "
                              f"{' and '.join(keys)}: set {'them' if len(keys) > 1 else 'it'} ({variables})")
        zone = config.get("intensity_zone")
        if zone is not None:
            cls.check_zone(str(zone))

    @classmethod
    def diagnose(cls, config: Any) -> tuple[bool, str, str | None]:
        """``wattprint doctor``'s line for this provider, without a network call: (ready, what, the fix or None)."""
        every = f"{cls.period_s / 60:g} min" if cls.period_s < 3600 else f"{cls.period_s / 3600:g} h"
        what = f"{cls.name} ({cls.title}): {cls.kind} intensity every {every}"
        try:
            cls.check_settings(config)
        except ConfigError as error:
            return False, f"{what}: {error}", "set the setting named; 'wattprint config' shows where each comes from"
        zone = config.get("intensity_zone")
        where = f", zone {cls.check_zone(str(zone))}" if zone is not None else ", zone from the location"
        return True, what + where, None

    # -- shared helpers ------------------------------------------------------------------------------------

    def _get(
        self,
        path: str,
        *,
        what: str,
        params: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
        ttl_s: float = 0.0,
        attempts: int | None = None,
        cache_extra: tuple[object, ...] = (),
    ) -> Any:
        """``GET url + path``, from the cache when a fresh answer is there. ``headers`` are not part of the key."""
        key = ResponseCache.key(self.name, self.url, path, sorted((params or {}).items()), *cache_extra)
        if ttl_s > 0:
            cached = self.cache.get(key)
            if cached is not None:
                return cached
        body = self.http.get_json(self.url + path, what=what, params=params, headers=headers, attempts=attempts)
        if ttl_s > 0:
            self.cache.put(key, body, ttl_s)
        return body

    def _value(self, value: object, what: str) -> float:
        return _check_value(self.name, value, what)

    def _bad(self, message: str) -> ProviderResponseError:
        return ProviderResponseError(f"{self.name}: {message}", provider=self.name)

    def _time(self, value: object, what: str) -> float:
        try:
            return parse_time(value, what=what)
        except ValueError as exc:
            raise self._bad(str(exc)) from None

    def close(self) -> None:
        self.http.close()
