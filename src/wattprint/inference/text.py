"""The inference section as a person reads it, defined in :mod:`wattprint.run.request_text`."""

from __future__ import annotations

from wattprint.run.request_text import inference_text

__all__ = ["inference_text"]
