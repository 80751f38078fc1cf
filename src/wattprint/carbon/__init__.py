"""Grid carbon intensity: the embedded figures, where the machine is, and how certain both are.

``resolve_location()`` (explicit settings) and ``locate()`` (wattprint's configuration) return an
:class:`Intensity` that says where its figure came from and how the location was decided. Importing this
package reads nothing and opens no connection; submodules load on first use.
"""

from __future__ import annotations

from wattprint._lazy import lazy_exports

TYPE_CHECKING = False
if TYPE_CHECKING:
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
_WHERE = {name: __name__ + module for module, names in _LAZY.items() for name in names}


__getattr__, __dir__ = lazy_exports(__name__, _WHERE, __all__)
