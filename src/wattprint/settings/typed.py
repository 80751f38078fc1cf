"""The resolved settings as one typed, frozen value: ``Settings``, a field per key of the registry.

``load_settings()`` resolves every source as ``load_config()`` does and keeps where each value came from, so
messages can still name it (``settings.source("pue")``). ``Settings(...)`` and ``dataclasses.replace`` check
each value as an argument would be checked. tests/settings/test_typed.py holds the fields and ``KEYS`` together:
adding a key is adding its line to ``KEYS`` and its field here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from wattprint.core.errors import ConfigError
from wattprint.settings.config import KEYS, Config, Secret, Setting, check_value, load_config

ARGUMENT = "argument"
DEFAULT = "default"
_DEFAULTS: dict[str, object] = {key.name: key.default for key in KEYS}


@dataclass(frozen=True)
class Settings:
    """Every key's value, typed; immutable. ``load_settings()`` builds one from every source."""

    project: str | None = None
    store: str | None = None
    attribution: str = "machine"
    interval_s: float = 1.0
    flush_interval_s: float = 10.0
    store_command: bool = True
    gpus: bool = True
    cpu_tdp_w: float | None = None
    powercap_root: str | None = None
    rapl_domains: tuple[str, ...] = ("package", "dram")
    location: str | None = None
    pue: float | None = None
    cloud_metadata: bool = False
    ip_geolocation: bool = False
    predict_after: int = 1
    prediction_level: float = 0.9
    budget_kwh: float | None = None
    budget_g: float | None = None
    budget_policy: str = "warn"
    budget_basis: str = "upper"
    intensity_provider: str = "none"
    intensity_zone: str | None = None
    electricitymaps_token: Secret | None = None
    watttime_username: str | None = None
    watttime_password: Secret | None = None
    intensity_url: str | None = None
    intensity_timeout_s: float = 5.0
    intensity_disk_cache: bool = True
    log_level: str = "info"
    server: str | None = None
    server_token: Secret | None = None
    # -- exporters (issue 18): their fields go here, in the order of their keys --
    exporters: tuple[str, ...] | None = None
    prometheus_port: int = 9464
    prometheus_addr: str = "127.0.0.1"
    prometheus_textfile: str | None = None
    pushgateway_url: str | None = None
    pushgateway_job: str = "wattprint"
    csv_log_path: str = "emissions.csv"
    mlflow_tracking_uri: str | None = None
    mlflow_experiment: str | None = None
    wandb_project: str | None = None
    wandb_entity: str | None = None
    wandb_mode: str | None = None
    otlp_endpoint: str | None = None
    otlp_headers: Secret | None = None

    def __post_init__(self) -> None:
        problems: list[str] = []
        for key in KEYS:
            value = getattr(self, key.name)
            if value is None or value == key.default or isinstance(value, Secret):
                continue
            converted = _checked(key.name, value, problems)
            if converted is not None and (converted != value or type(converted) is not type(value)):
                object.__setattr__(self, key.name, converted)  # "Process" -> "process", 2 -> 2.0, a list -> tuple
        _raise(problems)

    @classmethod
    def from_config(cls, config: Config) -> Settings:
        """The typed values of a resolved ``Config`` (checked already), keeping each value's source."""
        settings = object.__new__(cls)
        for setting in config.settings():
            object.__setattr__(settings, setting.key, setting.value)
        object.__setattr__(settings, "_config", config)
        return settings

    @property
    def config(self) -> Config:
        """The same settings as a ``Config``: each value with its source (for code that takes a Config)."""
        config: Config | None = self.__dict__.get("_config")
        if config is None:
            config = Config({key.name: Setting(key.name, getattr(self, key.name), self.source(key.name))
                             for key in KEYS})
            object.__setattr__(self, "_config", config)
        return config

    def source(self, key: str) -> str:
        """Where ``key``'s value came from (``argument``, ``environment variable WATTPRINT_X``, a file, ``default``)."""
        config: Config | None = self.__dict__.get("_config")
        if config is not None or key not in _DEFAULTS:
            return (config or Config({})).setting(key).source  # an unknown key: the ConfigError that names it
        return DEFAULT if getattr(self, key) == _DEFAULTS[key] else ARGUMENT

    def setting(self, key: str) -> Setting:
        """``key``'s value and its source."""
        source = self.source(key)
        return Setting(key, getattr(self, key), source)

    def with_arguments(self, arguments: Mapping[str, object]) -> Settings:
        """These settings with ``arguments`` (key -> value; None: not given) in their place, each checked and
        marked as an argument; the other keys keep their values and sources."""
        given = {name: value for name, value in arguments.items() if value is not None}
        if not given:
            return self
        problems: list[str] = []
        chosen = {setting.key: setting for setting in self.config.settings()}
        for name, value in given.items():
            converted = _checked(name, value, problems)
            if converted is not None:
                chosen[name] = Setting(name, converted, ARGUMENT)
        _raise(problems)
        return Settings.from_config(Config(chosen))

    def __repr__(self) -> str:
        given = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self)
                          if self.source(f.name) != DEFAULT)
        return f"Settings({given})"


def load_settings(
    arguments: Mapping[str, object] | None = None,
    *,
    cwd: str | None = None,
    environ: Mapping[str, str] | None = None,
    user_config: str | None = None,
) -> Settings:
    """Every key resolved from its sources, typed: ``load_config()``'s precedence, problems and arguments."""
    return Settings.from_config(load_config(arguments, cwd=cwd, environ=environ, user_config=user_config))


def _checked(name: str, value: object, problems: list[str]) -> object:
    """``value`` converted for key ``name`` as an argument, or None with the problem added to ``problems``."""
    try:
        return check_value(name, value)
    except ConfigError as error:
        problems.append(str(error))
        return None


def _raise(problems: list[str]) -> None:
    """All problems in one ConfigError, as ``load_config`` reports them."""
    if len(problems) == 1:
        raise ConfigError(problems[0])
    if problems:
        raise ConfigError(f"{len(problems)} configuration problems:\n" + "\n".join("- " + p for p in problems))
