"""What a tracker is given besides its settings: the run's own options and the hardware libraries to use.

``Tracker(project, name, *, settings=None, hardware=None, **overrides)``: ``overrides`` are settings keys
(``wattprint.settings.config.KEYS``), the fields of :class:`RunOptions` and those of :class:`Hardware`, each
name in exactly one of the three; :func:`split_overrides` sorts them and names an unknown one with its closest
match. ``run/arguments.py`` spells the same names out with their types, for IDEs and mypy.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, fields

from wattprint.core.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wattprint.api.records import GroupRecord

NOT_PER_RUN = frozenset({"log_level"})
"""Settings keys that apply to the whole process, so a tracker's arguments cannot set them."""


@dataclass(frozen=True)
class Hardware:
    """Libraries to measure with instead of the installed ones (a test double, a vendored build), kept apart
    from the user's settings: ``nvml`` stands for pynvml (nvidia-ml-py), ``amdsmi`` for amdsmi."""

    nvml: Any = None
    amdsmi: Any = None

    def __post_init__(self) -> None:
        from wattprint.core.errors import check_module

        check_module("nvml", self.nvml, ("nvmlInit", "nvmlDeviceGetCount"), "pynvml (nvidia-ml-py)")
        check_module("amdsmi", self.amdsmi, ("amdsmi_init",), "amdsmi")


@dataclass(frozen=True)
class RunOptions:
    """What belongs to one run rather than to the settings: the process measured, the training's length, how
    often steps predict, and the hyperparameters fingerprinted (docs/predict.md)."""

    pid: int | None = None
    total_epochs: int | None = None
    total_steps: int | None = None
    predict_every_steps: int | None = None
    hyperparameters: Mapping[str, Any] | None = None
    tags: tuple[str, ...] | None = None
    """Labels for the run (issue 15: filtered on by a team server)."""
    group: str | GroupRecord | None = None
    """The run group this run is a part of (issue 19: a distributed run); overrides the launcher's job key."""

    def __post_init__(self) -> None:
        from wattprint.predict.prediction import check_total

        pid = self.pid
        if pid is not None and (isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0):
            raise ConfigError(f"pid must be a positive process id or None, got {pid!r}")
        for name in ("total_epochs", "total_steps", "predict_every_steps"):
            check_total(name, getattr(self, name))
        hyperparameters = self.hyperparameters
        if hyperparameters is not None:
            if not isinstance(hyperparameters, Mapping):
                raise ConfigError(f"hyperparameters must be a mapping of names to values or None, got "
                                  f"{type(hyperparameters).__name__}")
            from wattprint.core.errors import check_name
            from wattprint.run.fingerprint import canonical

            for key in hyperparameters:
                check_name(f"hyperparameters key {key!r}"[:80], key)
            canonical(hyperparameters)  # fail now on a value that cannot be fingerprinted
        if self.group is not None:
            from wattprint.run.group import check_group

            check_group(self.group)
        object.__setattr__(self, "tags", normal_tags(self.tags))


MAX_TAG_CHARS = 64
"""The longest tag: a label to filter by, not a description."""


def normal_tags(tags: object, source: str = "") -> tuple[str, ...] | None:
    """``tags`` as a tuple of distinct names, stripped, in the order given (a single string is one tag); a
    ConfigError names a tag that is not a short printable name."""
    if tags is None:
        return None
    from wattprint.core.errors import check_name

    if isinstance(tags, str):
        tags = (tags,)
    if not isinstance(tags, (list, tuple, set, frozenset)):
        raise ConfigError(f"tags must be a list of names, e.g. tags=['baseline', 'fp16'], or None; got "
                          f"{type(tags).__name__}")
    found: dict[str, None] = {}
    for position, tag in enumerate(sorted(tags, key=str) if isinstance(tags, (set, frozenset)) else tags):
        check_name(f"tags[{position}]", tag, max_chars=MAX_TAG_CHARS, source=source)
        found[str(tag).strip()] = None
    return tuple(found)


_RUN_OPTIONS = tuple(f.name for f in fields(RunOptions))
_HARDWARE = tuple(f.name for f in fields(Hardware))
_NO_OPTIONS = RunOptions()
_NO_HARDWARE = Hardware()


def split_overrides(
    overrides: Mapping[str, Any], hardware: Hardware | None
) -> tuple[dict[str, object], RunOptions, Hardware]:
    """A tracker's keyword arguments sorted into settings arguments, run options and hardware (``hardware=``
    with any ``nvml=``/``amdsmi=`` given beside it). Raises ConfigError for an unknown or misplaced name."""
    keys = _setting_keys()
    settings: dict[str, object] = {}
    run: dict[str, Any] = {}
    given: dict[str, Any] = {}
    for name, value in overrides.items():
        if name in keys:
            settings[name] = value
        elif name in _RUN_OPTIONS:
            run[name] = value
        elif name in _HARDWARE:
            if value is not None:
                given[name] = value
        else:
            raise ConfigError(_unknown_keyword(name, sorted(keys) + list(_RUN_OPTIONS + _HARDWARE)))
    if hardware is None:
        hardware = Hardware(**given) if given else _NO_HARDWARE
    elif not isinstance(hardware, Hardware):
        raise ConfigError(f"hardware must be a wattprint.run.options.Hardware or None, got {type(hardware).__name__}")
    elif given:
        raise ConfigError(f"{', '.join(given)} given both in hardware= and as a keyword; give it in one place")
    return settings, RunOptions(**run) if run else _NO_OPTIONS, hardware


@functools.cache
def _setting_keys() -> frozenset[str]:
    from wattprint.settings.config import KEYS

    return frozenset(key.name for key in KEYS) - NOT_PER_RUN


def _unknown_keyword(name: str, known: list[str]) -> str:
    import difflib

    if name in NOT_PER_RUN:
        return (f"{name} applies to the whole process, not one tracker: set {name} in wattprint.toml or "
                f"WATTPRINT_{name.upper()}")
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    from wattprint.settings.hints import docs

    return (f"Tracker() got an unknown keyword argument {name!r}{hint}; it takes the settings keys "
            f"({docs('configuration')}) and " + ", ".join(_RUN_OPTIONS + _HARDWARE))
