"""Grid carbon intensity: the embedded figures, where the machine is, and how certain both are.

``resolve_location()`` (explicit settings) and ``locate()`` (wattprint's configuration) return an
:class:`Intensity` that says where its figure came from and how the location was decided. Importing this
package reads nothing and opens no connection; submodules load on first use.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .intensity import (
        HOW_ARGUMENT,
        HOW_CONFIG,
        HOW_GEOLOCATION,
        HOW_UNKNOWN,
        Intensity,
        how_cloud_metadata,
        intensity_from_record,
        intensity_uncertainty,
    )
    from .location import (
        cloud_metadata_region,
        geolocate,
        locate,
        location_hint,
        lookup_location,
        resolve_location,
    )

__all__ = [
    "HOW_ARGUMENT",
    "HOW_CONFIG",
    "HOW_GEOLOCATION",
    "HOW_UNKNOWN",
    "Intensity",
    "cloud_metadata_region",
    "geolocate",
    "how_cloud_metadata",
    "intensity_from_record",
    "intensity_uncertainty",
    "locate",
    "location_hint",
    "lookup_location",
    "resolve_location",
]

_LAZY = {
    ".intensity": (
        "HOW_ARGUMENT",
        "HOW_CONFIG",
        "HOW_GEOLOCATION",
        "HOW_UNKNOWN",
        "Intensity",
        "how_cloud_metadata",
        "intensity_from_record",
        "intensity_uncertainty",
    ),
    ".location": (
        "cloud_metadata_region",
        "geolocate",
        "locate",
        "location_hint",
        "lookup_location",
        "resolve_location",
    ),
}
_WHERE = {name: module for module, names in _LAZY.items() for name in names}


def __getattr__(name: str) -> Any:
    """Import the submodule defining ``name`` on first access."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(__import__(__name__ + module, fromlist=[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
