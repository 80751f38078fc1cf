"""Live carbon intensity providers, off unless the ``intensity_provider`` setting names one.

| name | provider | key | signal | period |
|---|---|---|---|---|
| ``electricitymaps`` | Electricity Maps API v3 | ``electricitymaps_token`` | average | 1 h |
| ``uk`` | Carbon Intensity API (Great Britain) | none | average | 30 min |
| ``energidataservice`` | Energi Data Service (Denmark) | none | average | 5 min |
| ``watttime`` | WattTime API v3 | ``watttime_username`` and ``watttime_password`` | marginal | 5 min |

Each provider class declares what the rest of wattprint needs (its name, credentials, zones, how ``doctor``
reports it); the registry below (built-in registration lines, :func:`register`, and the
``wattprint.intensity_providers`` entry points) is where the settings' choices, the credential checks,
``doctor`` and the command line's ``--intensity-provider`` find them. Importing this package imports no HTTP
library and no provider module; httpx is imported on the first request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

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
from wattprint.core.plugins import Registry

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
    "ENTRY_POINT_GROUP",
    "check_provider_settings",
    "make_provider",
    "provider_class",
    "provider_from_config",
    "provider_names",
    "provider_words",
    "register",
    "unregister",
    "zone_for",
]

_BUILTIN = {
    "electricitymaps": "wattprint.carbon.providers.electricitymaps:ElectricityMaps",
    "uk": "wattprint.carbon.providers.uk:UKCarbonIntensity",
    "energidataservice": "wattprint.carbon.providers.energidataservice:EnergiDataService",
    "watttime": "wattprint.carbon.providers.watttime:WattTime",
}
"""The registration lines of the built-in providers: name → ``module:class``, imported on first use."""

PROVIDERS = tuple(_BUILTIN)
"""The built-in values of ``intensity_provider`` other than ``none`` (:func:`provider_names` adds the others)."""

ENTRY_POINT_GROUP = "wattprint.intensity_providers"
"""Entry points in this group (``name = "package.module:Class"``) add providers from other packages."""

def _check(cls: object, taken: Sequence[type[IntensityProvider]]) -> str | None:
    """Why ``cls`` cannot be a provider beside ``taken`` (not a named IntensityProvider, or its name used), or None."""
    if not (isinstance(cls, type) and issubclass(cls, IntensityProvider)) or not cls.name:
        return f"{cls!r} is not an IntensityProvider subclass with a name"
    for other in taken:
        if other.name == cls.name:
            return f"the intensity provider name {cls.name!r} is taken ({other.title})"
    return None


REGISTRY: Registry[type[IntensityProvider]] = Registry("intensity provider", ENTRY_POINT_GROUP, _BUILTIN, _check)
"""The providers: built-in (imported on first use), from entry points, then registered."""


def register(cls: type[IntensityProvider]) -> type[IntensityProvider]:
    """Make ``cls`` available as ``intensity_provider = cls.name`` (usable as a class decorator); returns ``cls``.
    A name another provider has is a ValueError (``unregister`` it first to replace it), what is no named
    IntensityProvider subclass a TypeError."""
    if not (isinstance(cls, type) and issubclass(cls, IntensityProvider)) or not cls.name:
        raise TypeError(f"{cls!r}: a provider must be an IntensityProvider subclass with a name")
    return REGISTRY.register(cls)


def unregister(name: str) -> None:
    """Forget a provider added with :func:`register` (the built-in ones stay)."""
    REGISTRY.unregister(name)


def provider_names() -> tuple[str, ...]:
    """Every value of ``intensity_provider`` other than ``none``: built-in, from entry points, then registered;
    no provider module is imported."""
    return REGISTRY.names()


def provider_class(name: str) -> type[IntensityProvider]:
    """The class of provider ``name``; ConfigError for an unknown name (or one whose entry point fails to load)."""
    found = REGISTRY.find(name)
    if found is None:
        raise ConfigError(f"intensity_provider={name!r} is not valid; allowed values: {', '.join(provider_names())}")
    return found


def provider_words() -> str:
    """The provider names as words: ``electricitymaps, uk, energidataservice or watttime``."""
    names = provider_names()
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


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
    (plain strings or ``wattprint.settings.config.Secret``); other providers' credentials go by the names their
    ``credentials`` declare. ``cache_dir`` keeps answers on disk too. Other ``options`` (``cache``, ``http``,
    ``clock``) go to the provider."""
    cls = provider_class(name)
    if "cache" not in options:
        options["cache"] = ResponseCache(cache_dir, clock=options.get("clock") or time.time)
    given = {"token": token, "username": username, "password": password}
    for argument in cls.credentials.values():
        if argument in given:
            options[argument] = given[argument]
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
    cls = provider_class(str(name))
    cache_dir = None
    if config.get("intensity_disk_cache"):
        from wattprint.carbon.providers.base import default_cache_dir

        cache_dir = default_cache_dir()
    settings = {
        "url": config.get("intensity_url"),
        "timeout_s": float(config.get("intensity_timeout_s")),
        "cache_dir": cache_dir,
        **{argument: config.get(key) for key, argument in cls.credentials.items()},
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
    provider_class(str(name)).check_settings(config)


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
