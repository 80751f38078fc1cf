"""Live carbon intensity providers, off unless the ``intensity_provider`` setting names one.

| name | provider | key | signal | period |
|---|---|---|---|---|
| ``electricitymaps`` | Electricity Maps API v3 | ``electricitymaps_token`` | average | 1 h |
| ``uk`` | Carbon Intensity API (Great Britain) | none | average | 30 min |
| ``energidataservice`` | Energi Data Service (Denmark) | none | average | 5 min |
| ``watttime`` | WattTime API v3 | ``watttime_username`` and ``watttime_password`` | marginal | 5 min |

Importing this package imports no HTTP library; httpx is imported on the first request.
"""

from __future__ import annotations

import threading
import time

from wattprint.carbon.providers.base import (
    AVERAGE,
    MARGINAL,
    HttpClient,
    IntensityPoint,
    IntensityProvider,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderResponseError,
    ProviderUnavailable,
    ResponseCache,
    RetryPolicy,
    SignalIndex,
)
from wattprint.core.errors import ConfigError
from wattprint.settings.hints import docs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.carbon.intensity import Intensity

__all__ = [
    "AVERAGE",
    "MARGINAL",
    "PROVIDERS",
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
    "check_provider_settings",
    "make_provider",
    "provider_class",
    "provider_from_config",
    "zone_for",
]

PROVIDERS = ("electricitymaps", "uk", "energidataservice", "watttime")
"""The values of ``intensity_provider`` other than ``none``."""


def provider_class(name: str) -> type[IntensityProvider]:
    """The class of provider ``name``; ConfigError for an unknown name."""
    if name == "electricitymaps":
        from wattprint.carbon.providers.electricitymaps import ElectricityMaps

        return ElectricityMaps
    if name == "uk":
        from wattprint.carbon.providers.uk import UKCarbonIntensity

        return UKCarbonIntensity
    if name == "energidataservice":
        from wattprint.carbon.providers.energidataservice import EnergiDataService

        return EnergiDataService
    if name == "watttime":
        from wattprint.carbon.providers.watttime import WattTime

        return WattTime
    raise ConfigError(f"intensity_provider={name!r} is not valid; allowed values: {', '.join(PROVIDERS)}")


def make_provider(
    name: str,
    *,
    url: str | None = None,
    timeout_s: float = 5.0,
    token: Any = None,
    username: str | None = None,
    password: Any = None,
    cache_dir: str | None = None,
    **options: Any,
) -> IntensityProvider:
    """A provider instance. ``token`` is Electricity Maps' key, ``username``/``password`` WattTime's account
    (plain strings or ``wattprint.settings.config.Secret``); ``cache_dir`` keeps answers on disk too. Other ``options``
    (``cache``, ``http``, ``clock``) go to the provider."""
    cls = provider_class(name)
    if "cache" not in options:
        options["cache"] = ResponseCache(cache_dir, clock=options.get("clock") or time.time)
    if name == "electricitymaps":
        options["token"] = token
    elif name == "watttime":
        options["username"] = username
        options["password"] = password
    return cls(url=url, timeout_s=timeout_s, **options)


_shared: dict[tuple[object, ...], IntensityProvider] = {}
_shared_lock = threading.Lock()


def provider_from_config(config: Any = None) -> IntensityProvider | None:
    """The provider the settings name (None for ``intensity_provider = "none"``), shared by every caller with the
    same settings so that they share one cache. ConfigError when a credential it needs is missing."""
    if config is None:
        from wattprint.settings.config import load_config

        config = load_config()
    name = config.get("intensity_provider")
    if name in (None, "none"):
        return None
    check_provider_settings(config)
    cache_dir = None
    if config.get("intensity_disk_cache"):
        from wattprint.carbon.providers.base import default_cache_dir

        cache_dir = default_cache_dir()
    settings = {
        "url": config.get("intensity_url"),
        "timeout_s": float(config.get("intensity_timeout_s")),
        "token": config.get("electricitymaps_token"),
        "username": config.get("watttime_username"),
        "password": config.get("watttime_password"),
        "cache_dir": cache_dir,
    }
    key = (name, *sorted((k, v if not hasattr(v, "reveal") else ("secret", hash(v))) for k, v in settings.items()))
    with _shared_lock:
        provider = _shared.get(key)
        if provider is None:
            provider = make_provider(name, **settings)
            _shared[key] = provider
        return provider


def check_provider_settings(config: Any) -> None:
    """ConfigError, before anything runs, when the named provider lacks a credential or its zone is malformed."""
    name = config.get("intensity_provider")
    if name in (None, "none"):
        return
    cls = provider_class(name)
    if name == "electricitymaps" and config.get("electricitymaps_token") is None:
        raise ConfigError("intensity_provider = 'electricitymaps' needs an API token: set electricitymaps_token "
                          f"(WATTPRINT_ELECTRICITYMAPS_TOKEN); see {docs('live')}")
    if name == "watttime" and (config.get("watttime_username") is None or config.get("watttime_password") is None):
        raise ConfigError("intensity_provider = 'watttime' needs an account: set watttime_username and "
                          "watttime_password (WATTPRINT_WATTTIME_USERNAME, WATTPRINT_WATTTIME_PASSWORD)")
    zone = config.get("intensity_zone")
    if zone is not None:
        cls.check_zone(str(zone))


def zone_for(provider: IntensityProvider | type[IntensityProvider], *, zone: str | None = None,
             intensity: Intensity | None = None, location: str | None = None) -> str:
    """The provider's zone: ``zone`` if given (checked), else derived from a resolved ``intensity`` or a
    ``location`` key (``FR`` → Electricity Maps ``FR``; ``em:DK-DK1`` → ``DK1``; ``GB`` → the UK national
    figure). ConfigError, naming ``intensity_zone``, when there is no safe mapping."""
    cls = provider if isinstance(provider, type) else type(provider)
    if zone is not None:
        return cls.check_zone(zone)
    if intensity is None and location is not None:
        from wattprint.carbon.location import resolve_location

        intensity = resolve_location(location)
    if intensity is not None and intensity.location_known:
        derived = cls.zone_for(intensity)
        if derived is not None:
            return derived
        where = f"location {intensity.zone!r} ({intensity.zone_name})"
    else:
        where = "an unknown location"
    raise ConfigError(f"{cls.title} cannot serve {where}: set intensity_zone to {cls.zone_help}")
