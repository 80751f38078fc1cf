"""The wire format's codec: :mod:`wattprint.core.codec`, which every layer's records use (kept here under the
name the wire format's readers know)."""

from wattprint.core.codec import from_dict, to_dict

__all__ = ["from_dict", "to_dict"]
