"""Settings: one registry of keys, read from arguments, the environment, a project file and the user config.

Precedence, highest first: explicit arguments, ``WATTPRINT_*`` environment variables, the nearest project file
(``wattprint.toml``, or the ``[tool.wattprint]`` table of ``pyproject.toml``, searched from the working
directory upwards), the user config file, the key's default. Every value says where it came from, and a bad
value or an unknown key is a ``ConfigError`` that names the key, the value, its source and what is allowed.

``python -m wattprint.settings.config`` prints the key table of ``docs/configuration.md``.
"""

from __future__ import annotations

import math
import os
import stat
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from wattprint import _log
from wattprint.core.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

KINDS = ("str", "float", "int", "bool", "str-list")
ENV_PREFIX = "WATTPRINT_"
CONFIG_VARIABLE = "WATTPRINT_CONFIG"
"""Points at the user config file to read instead of the per-user one; not a key itself."""
PARENT_RUN_VARIABLE = "WATTPRINT_PARENT_RUN"
"""Set by ``wattprint run`` for the command it measures: a tracker inside records that run as its parent."""
OTHER_VARIABLES = frozenset({CONFIG_VARIABLE, "WATTPRINT_NVML_MODULE", "WATTPRINT_AMDSMI_MODULE", "WATTPRINT_RAW_DATA",
                             PARENT_RUN_VARIABLE})
"""``WATTPRINT_*`` variables that are not keys but are read somewhere; add one here so it is not taken for a typo."""
OTHER_PREFIXES = ("WATTPRINT_TEST_",)
"""Prefixes of variables wattprint's own tests and tools use."""
PROJECT_FILE = "wattprint.toml"
PYPROJECT_FILE = "pyproject.toml"
USER_CONFIG_NAME = "config.toml"
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


@dataclass(frozen=True)
class Key:
    """One setting: its name, kind, default, a one-line meaning, and what values it accepts.

    ``check`` (for string keys) takes the value and the directory of the file it came from (None for arguments
    and the environment) and returns the value to use, raising ``ValueError`` when it is not allowed; ``allowed``
    says in words what it accepts. ``default_doc`` says what a ``None`` default means.
    """

    name: str
    kind: str
    default: object
    doc: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    check: Callable[[Any, str | None], object] | None = None
    allowed: str = ""
    default_doc: str = ""
    choices_from: str = ""
    """``module:function`` returning more choices, loaded when they are needed (like an entry point): a registry in
    a higher layer, such as the live providers, owns them without the settings layer importing it."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"key {self.name!r}: kind must be one of {KINDS}, got {self.kind!r}")

    @property
    def env_var(self) -> str:
        """The environment variable that sets this key: ``WATTPRINT_`` and the name in capitals."""
        return ENV_PREFIX + self.name.upper()


@dataclass(frozen=True)
class Setting:
    """A key's value and where it came from.

    ``source`` is ``"argument"``, ``"environment variable WATTPRINT_X"``, the absolute path of a
    ``wattprint.toml``, ``"/abs/pyproject.toml [tool.wattprint]"``, ``"user config /abs/path"`` or ``"default"``.
    """

    key: str
    value: object
    source: str


def _expand_path(path: str, base: str | None) -> str:
    """``~`` expanded; a relative path in a file is taken relative to that file's directory."""
    path = os.path.expanduser(path)
    if base is not None and not os.path.isabs(path):
        path = os.path.join(base, path)
    return path


STORE_SCHEMES = ("sqlite", "postgresql")


def _store_value(value: str, base: str | None) -> str:
    if value.strip().lower() == "off":
        return "off"
    if "://" in value:
        scheme = value.split("://", 1)[0].lower()
        if scheme.split("+", 1)[0] not in STORE_SCHEMES:
            raise ValueError(f"unsupported URL scheme {scheme!r}")
        return value
    return _expand_path(value, base)


def _paths_value(value: str, base: str | None) -> str:
    parts = [part.strip() for part in value.split(os.pathsep)]
    if not all(parts):
        raise ValueError("empty path")
    return os.pathsep.join(_expand_path(part, base) for part in parts)


class Secret:
    """A setting that must never be shown (an API token, a password): masked in every repr and str;
    ``reveal()`` gives the value to the one place that sends it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))


def _secret_value(value: str, base: str | None) -> Secret:
    return Secret(value.strip())


def _path_value(value: str, base: str | None) -> str:
    return _expand_path(value.strip(), base)


def _url_value(value: str, base: str | None) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) URL")
    return value.strip().rstrip("/")


KEYS: tuple[Key, ...] = (
    Key("project", "str", None, "Project name that runs are filed under."),
    Key("store", "str", None, "Where runs are stored; `off` stores nothing.", check=_store_value,
        allowed="`off`, a file path, or a `sqlite:///` or `postgresql://` URL", default_doc="the per-user SQLite file"),
    Key("attribution", "str", "machine", "What a run is charged for: the whole machine, its process tree, or its "
        "container (cgroup).", choices=("machine", "process", "cgroup")),
    Key("interval_s", "float", 1.0, "Seconds between readings of model and sampled sensors (counters are read at "
        "window edges).", minimum=0.01, maximum=3600),
    Key("flush_interval_s", "float", 10.0, "Seconds between writes of a running run to the store.",
        minimum=0.1, maximum=3600),
    Key("store_command", "bool", True, "Store the command line `wattprint run` measured, with credentials "
        "(token, password, secret, key and auth options, URL passwords) replaced by `REDACTED`; `false` stores none."),
    Key("gpus", "bool", True, "Measure GPUs; `false` skips them."),
    Key("cpu_tdp_w", "float", None, "Maximum power of all the CPUs this machine sees, in watts, for when the TDP "
        "table does not know them.", minimum=1, maximum=10_000, default_doc="from the CPU TDP table"),
    Key("powercap_root", "str", None, "Powercap tree to read RAPL counters from instead of the kernel's.",
        check=_paths_value, allowed="a directory, or several separated by `:`", default_doc="the kernel's"),
    Key("rapl_domains", "str-list", ("package", "dram"), "RAPL domains to read.", choices=("package", "dram", "psys")),
    Key("location", "str", None, "Where the machine is (country, region or cloud region), for carbon intensity."),
    Key("pue", "float", None, "Power usage effectiveness of the data centre.", minimum=1.0, maximum=3.0,
        default_doc="the provider's default"),
    Key("cloud_metadata", "bool", False, "Allow asking the cloud instance metadata service for the region "
        "(a network call)."),
    Key("ip_geolocation", "bool", False, "Allow an IP geolocation lookup to find the location (a network call to a "
        "third party)."),
    Key("predict_after", "int", 1, "Epochs (or steps) a training completes before its totals are first "
        "predicted.", minimum=1),
    Key("prediction_level", "float", 0.9, "Coverage of prediction intervals (0.9: a 90 % interval).",
        minimum=0.5, maximum=0.999),
    Key("budget_kwh", "float", None, "Energy budget of a run (IT energy, kWh).", minimum=0,
        default_doc="no energy budget"),
    Key("budget_g", "float", None, "Emissions budget of a run (g CO2e).", minimum=0,
        default_doc="no emissions budget"),
    Key("budget_policy", "str", "warn", "What happens when a run is predicted to exceed its budget: warn, raise "
        "`BudgetExceeded` at the epoch boundary (callbacks stop the trainer), or ask on the terminal (warn in "
        "batch jobs).", choices=("warn", "stop", "ask")),
    Key("budget_basis", "str", "upper", "Which predicted total is held against the budget: the upper bound of "
        "the prediction interval or its central value.", choices=("upper", "central")),
    Key("intensity_provider", "str", "none", "Live carbon intensity provider for time-resolved accounting and "
        "carbon-aware scheduling (network calls).",
        choices=("none",), choices_from="wattprint.carbon.providers:provider_names"),
    Key("intensity_zone", "str", None, "Zone or region to ask the live provider for (`DE`, `DK1`, `region:13`, "
        "`postcode:RG10`, `CAISO_NORTH`, or `lat,lon`).", default_doc="derived from `location`"),
    Key("electricitymaps_token", "str", None, "Electricity Maps API token (sent as the `auth-token` header).",
        check=_secret_value, allowed="a string (never shown)"),
    Key("watttime_username", "str", None, "WattTime account name."),
    Key("watttime_password", "str", None, "WattTime account password.", check=_secret_value,
        allowed="a string (never shown)"),
    Key("intensity_url", "str", None, "Base URL of the live provider's API, to use a proxy or a test server.",
        check=_url_value, allowed="an `http://` or `https://` URL", default_doc="the provider's public API"),
    Key("intensity_timeout_s", "float", 5.0, "Seconds a live provider may take to answer one request.",
        minimum=0.1, maximum=60),
    Key("intensity_disk_cache", "bool", True, "Also keep live provider answers in the per-user cache directory "
        "(they are always cached in memory)."),
    Key("log_level", "str", "info", "Level of the `wattprint` logger: `info` prints a line per prediction on "
        "stderr, `warning` only problems.",
        choices=("debug", "info", "warning", "error")),
    Key("server", "str", None, "Base URL of a wattprint team server that every run is also sent to "
        "(`wattprint server`); what cannot be sent waits in the local store and goes with a later run or "
        "`wattprint push`.", check=_url_value, allowed="an `http://` or `https://` URL",
        default_doc="no server"),
    Key("server_token", "str", None, "Token the team server gave for sending runs (`wattprint server token "
        "create`); never printed or logged.", check=_secret_value, allowed="a string (never shown)"),
    # -- distributed runs (issue 19): their keys go here --
    # -- exporters (issue 18): their keys go here --
    Key("exporters", "str-list", None, "Exporters every run of the process is also sent to (Prometheus, "
        "OpenTelemetry, MLflow, W&B, a CSV log); each one's options are the keys below.",
        choices=("prometheus", "prometheus-textfile", "prometheus-pushgateway", "opentelemetry", "mlflow", "wandb",
                 "csv-log"),
        choices_from="wattprint.run.exporters:exporter_choices", default_doc="none"),
    Key("prometheus_port", "int", 9464, "Port of the `/metrics` endpoint the `prometheus` exporter serves "
        "(`0` picks a free one).", minimum=0, maximum=65535),
    Key("prometheus_addr", "str", "127.0.0.1", "Address the `prometheus` exporter's endpoint listens on "
        "(`0.0.0.0` lets a Prometheus on another host scrape it)."),
    Key("prometheus_textfile", "str", None, "The `.prom` file the `prometheus-textfile` exporter rewrites at every "
        "flush, in node_exporter's `--collector.textfile.directory`.", check=_path_value, allowed="a file path",
        default_doc="none (needed by `prometheus-textfile`)"),
    Key("pushgateway_url", "str", None, "Prometheus Pushgateway the `prometheus-pushgateway` exporter pushes each "
        "run to.", check=_url_value, allowed="an `http://` or `https://` URL",
        default_doc="none (needed by `prometheus-pushgateway`)"),
    Key("pushgateway_job", "str", "wattprint", "The `job` label of the runs pushed to the Pushgateway."),
    Key("csv_log_path", "str", "emissions.csv", "The CodeCarbon-like CSV file the `csv-log` exporter appends a row "
        "per run to.", check=_path_value, allowed="a file path"),
    Key("mlflow_tracking_uri", "str", None, "Where the `mlflow` exporter logs (an MLflow tracking URI).",
        default_doc="MLflow's own (`MLFLOW_TRACKING_URI`)"),
    Key("mlflow_experiment", "str", None, "MLflow experiment of the MLflow runs the `mlflow` exporter starts (when "
        "no MLflow run is active).", default_doc="MLflow's default experiment"),
    Key("wandb_project", "str", None, "W&B project of the W&B runs the `wandb` exporter starts (when no W&B run is "
        "active).", default_doc="W&B's own (`WANDB_PROJECT`, else `wattprint`)"),
    Key("wandb_entity", "str", None, "W&B entity (user or team) of the W&B runs the `wandb` exporter starts.",
        default_doc="W&B's own (`WANDB_ENTITY`)"),
    Key("wandb_mode", "str", None, "Mode of the W&B runs the `wandb` exporter starts: `offline` writes them to "
        "disk for `wandb sync`.", choices=("online", "offline", "disabled"),
        default_doc="W&B's own (`WANDB_MODE`, else online)"),
    Key("otlp_endpoint", "str", None, "Base URL of the OpenTelemetry collector that the `opentelemetry` exporter "
        "sends metrics to over OTLP/HTTP (`/v1/metrics` is added unless the URL ends with it).", check=_url_value,
        allowed="an `http://` or `https://` URL",
        default_doc="the SDK's: `OTEL_EXPORTER_OTLP_ENDPOINT`, else `http://localhost:4318`"),
    Key("otlp_headers", "str", None, "Headers the `opentelemetry` exporter sends with every export, as "
        "`name=value` pairs separated by commas (e.g. an `authorization` token); never printed or logged.",
        check=_secret_value, allowed="`name=value,...` (never shown)", default_doc="none"),
)
"""Every setting, in documentation order. Adding a key is adding a line here."""

_BY_NAME: dict[str, Key] = {key.name: key for key in KEYS}
_DEFAULTS: dict[str, Setting] = {key.name: Setting(key.name, key.default, "default") for key in KEYS}
_ENV_NAMES: tuple[tuple[Key, str], ...] = tuple((key, key.env_var) for key in KEYS)


# -- values ------------------------------------------------------------------------------------------------------


class _NotAllowed(Exception):
    """A value that does not fit its key; the caller words the message."""


def key_choices(key: Key) -> tuple[str, ...]:
    """``key.choices`` and those of its ``choices_from`` registry; a registry that fails to load is logged once."""
    if not key.choices_from:
        return key.choices
    module, _, function = key.choices_from.partition(":")
    try:
        import importlib

        more = tuple(getattr(importlib.import_module(module), function)())
    except Exception as error:  # noqa: BLE001 - the built-in choices still work
        _log.warn_once(f"choices:{key.name}", f"wattprint: the choices of {key.name} from {key.choices_from} "
                                              f"could not be read: {error}")
        return key.choices
    return key.choices + tuple(choice for choice in more if choice not in key.choices)


def _quoted(words: tuple[str, ...]) -> str:
    return ", ".join(repr(word) for word in words)


def _range_words(key: Key) -> str:
    low, high = key.minimum, key.maximum
    if low is not None and high is not None:
        return f" between {low:g} and {high:g}"
    if low is not None:
        return f" of at least {low:g}"
    if high is not None:
        return f" of at most {high:g}"
    return ""


def _must(key: Key, text: bool) -> str:
    """What ``key`` accepts, for an error message (``text``: the value was a string from the environment)."""
    if key.kind == "str":
        if key.choices:
            return f"one of {_quoted(key_choices(key))}"
        if key.allowed:
            return key.allowed.replace("`", "'")
        return "a non-empty string"
    if key.kind == "float":
        return "a number" + _range_words(key)
    if key.kind == "int":
        return "a whole number" + _range_words(key)
    if key.kind == "bool":
        return "true or false" + (" (1/0, true/false, yes/no, on/off)" if text else "")
    items = _quoted(key_choices(key)) if key.choices else "strings"
    return f"a {'comma-separated' if text else 'non-empty'} list of {items}"


def _choice(key: Key, value: object) -> str:
    if isinstance(value, str):
        folded = value.strip().lower()
        for choice in key_choices(key):
            if folded == choice.lower():
                return choice
    raise _NotAllowed


def _in_range(key: Key, number: float) -> None:
    if not math.isfinite(number):
        raise _NotAllowed
    if key.minimum is not None and number < key.minimum:
        raise _NotAllowed
    if key.maximum is not None and number > key.maximum:
        raise _NotAllowed


def _convert(key: Key, value: object, *, text: bool, base: str | None) -> object:
    """``value`` as ``key``'s kind; ``text``: it is an environment string to parse. Raises _NotAllowed."""
    kind = key.kind
    if kind == "str":
        if not isinstance(value, str) or not value.strip():
            raise _NotAllowed
        if text:
            value = value.strip()
        if key.choices:
            return _choice(key, value)
        if key.check is not None:
            try:
                return key.check(value, base)
            except ValueError:
                raise _NotAllowed from None
        return value
    if kind in ("float", "int"):
        if text and isinstance(value, str):
            try:
                number: float = float(value) if kind == "float" else int(value)
            except ValueError:
                raise _NotAllowed from None
        elif isinstance(value, bool) or not isinstance(value, (int, float) if kind == "float" else int):
            raise _NotAllowed
        else:
            number = value
        _in_range(key, number)
        return float(number) if kind == "float" else number
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if text and isinstance(value, str):
            word = value.strip().lower()
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
        raise _NotAllowed
    # str-list: a sequence of strings, or one string of comma-separated items
    if isinstance(value, str):
        items: list[object] = [item.strip() for item in value.split(",") if item.strip()]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise _NotAllowed
    result: list[str] = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise _NotAllowed
        item = _choice(key, item) if key.choices else item
        if item not in result:
            result.append(item)
    if not result:
        raise _NotAllowed
    return tuple(result)


def _bad_value(key: Key, value: object, source: str, text: bool) -> str:
    return f"{key.name} = {value!r} from {source}: must be {_must(key, text)}"


def _unknown(name: object, where: str) -> str:
    import difflib

    message = f"unknown key {name!r} {where}"
    if isinstance(name, str):
        close = difflib.get_close_matches(name.lower(), list(_BY_NAME), n=1, cutoff=0.6)
        if close:
            message += f" (did you mean {close[0]!r}?)"
    return message + f"; known keys: {', '.join(_BY_NAME)}"


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """A message for each ``WATTPRINT_*`` variable in ``environ`` that is no key (a typo such as
    ``WATTPRINT_INTERVL_S``), with the closest known one."""
    import difflib

    environ = os.environ if environ is None else environ
    known = {variable for _, variable in _ENV_NAMES} | OTHER_VARIABLES
    messages = []
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or name in known or name.startswith(OTHER_PREFIXES):
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else ""
        messages.append(f"environment variable {name} is not a wattprint setting and is ignored{hint}; settings "
                        f"are {ENV_PREFIX} + a key in capitals ('wattprint config' lists the keys)")
    return messages


def _warn_unknown_variables(environ: Mapping[str, str]) -> None:
    if not any(name.startswith(ENV_PREFIX) for name in environ):
        return
    messages = unknown_variables(environ)
    if messages:
        from wattprint._log import warn_once

        for message in messages:
            warn_once("unknown-variable:" + message.split()[2], "wattprint: " + message)


def check_value(name: str, value: object, *, source: str = "argument", text: bool = False) -> object:
    """``value`` checked and converted for key ``name``, as ``load_config`` would (``text``: parse a string
    the way an environment variable is parsed, for command-line options). Raises ConfigError."""
    key = _BY_NAME.get(name)
    if key is None:
        raise ConfigError(_unknown(name, "in " + source))
    try:
        return _convert(key, value, text=text, base=None)
    except _NotAllowed:
        raise ConfigError(_bad_value(key, value, source, text)) from None


# -- sources -----------------------------------------------------------------------------------------------------

Layer = dict[str, Setting]


def _mapping_layer(
    data: Mapping[Any, object], *, source: str, where: str, base: str | None, problems: list[str]
) -> Layer:
    """Settings from a mapping of typed values (arguments or a TOML table), each checked against its key."""
    layer: Layer = {}
    for name, value in data.items():
        key = _BY_NAME.get(name) if isinstance(name, str) else None
        if key is None:
            problems.append(_unknown(name, where))
            continue
        try:
            layer[name] = Setting(name, _convert(key, value, text=False, base=base), source)
        except _NotAllowed:
            problems.append(_bad_value(key, value, source, False))
    return layer


def _argument_layer(arguments: Mapping[str, object] | None, problems: list[str]) -> Layer:
    if not arguments:
        return {}
    given = {name: value for name, value in arguments.items() if value is not None or name not in _BY_NAME}
    return _mapping_layer(given, source="argument", where="in arguments", base=None, problems=problems)


def _environment_layer(environ: Mapping[str, str], problems: list[str]) -> Layer:
    layer: Layer = {}
    for key, variable in _ENV_NAMES:
        raw = environ.get(variable)
        if raw is None or not raw.strip():  # an empty variable counts as unset
            continue
        source = "environment variable " + variable
        try:
            layer[key.name] = Setting(key.name, _convert(key, raw, text=True, base=None), source)
        except _NotAllowed:
            problems.append(_bad_value(key, raw, source, True))
    return layer


Stamp = tuple[int, int, int]
_toml_cache: dict[str, tuple[Stamp, dict[str, Any]]] = {}
_layer_cache: dict[tuple[str, str], tuple[Stamp, Layer | None]] = {}


def _stamp(path: str) -> Stamp | None:
    """The file's modification stamp, or None when there is no regular file at ``path``."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _tomllib() -> Any:
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    return tomllib


def _read_toml(path: str, stamp: Stamp, problems: list[str]) -> dict[str, Any] | None:
    cached = _toml_cache.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    tomllib = _tomllib()
    try:
        with open(path, "rb") as handle:
            data: dict[str, Any] = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{path}: invalid TOML: {exc}")
        return None
    except UnicodeDecodeError as exc:
        problems.append(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})")
        return None
    except OSError as exc:
        problems.append(f"cannot read {path}: {exc.strerror or exc}")
        return None
    _toml_cache[path] = (stamp, data)
    return data


def _file_layer(path: str, role: str, stamp: Stamp, problems: list[str]) -> Layer | None:
    """The settings of one file; ``role`` is ``project``, ``pyproject`` or ``user``. None: a pyproject.toml
    without a ``[tool.wattprint]`` table. Valid results are cached by the file's stamp."""
    cached = _layer_cache.get((path, role))
    if cached is not None and cached[0] == stamp:
        return cached[1]
    mine: list[str] = []
    data = _read_toml(path, stamp, mine)
    layer: Layer | None = {}
    if data is not None:
        base = os.path.dirname(path)
        if role == "pyproject":
            tool = data.get("tool")
            table = tool.get("wattprint") if isinstance(tool, dict) else None
            source = f"{path} [tool.wattprint]"
            if table is None:
                layer = None
            elif not isinstance(table, dict):
                mine.append(f"{path}: tool.wattprint must be a table of settings, got {table!r}")
            else:
                layer = _mapping_layer(table, source=source, where="in " + source, base=base, problems=mine)
        else:
            source = path if role == "project" else f"user config {path}"
            layer = _mapping_layer(data, source=source, where="in " + source, base=base, problems=mine)
    if mine:
        problems.extend(mine)
        return {}
    _layer_cache[(path, role)] = (stamp, layer)
    return layer


def find_project_file(cwd: str | None = None) -> tuple[str, str] | None:
    """The nearest project file from ``cwd`` upwards, as (path, role ``project`` or ``pyproject``), or None.

    In each directory ``wattprint.toml`` wins over ``pyproject.toml``; a pyproject.toml without a
    ``[tool.wattprint]`` table does not stop the search. (A pyproject.toml that cannot be parsed does stop it,
    since it may hold the table; ``load_config`` reports it.)
    """
    found = _find_project(cwd, [])
    return None if found is None else (found[0], found[1])


def _find_project(cwd: str | None, problems: list[str]) -> tuple[str, str, Layer] | None:
    try:
        directory = os.path.abspath(os.getcwd() if cwd is None else cwd)
    except OSError:  # the working directory was removed
        return None
    while True:
        path = os.path.join(directory, PROJECT_FILE)
        stamp = _stamp(path)
        if stamp is not None:
            layer = _file_layer(path, "project", stamp, problems)
            _warn_if_shadowed(directory, path)
            return path, "project", layer or {}
        path = os.path.join(directory, PYPROJECT_FILE)
        stamp = _stamp(path)
        if stamp is not None:
            before = len(problems)
            layer = _file_layer(path, "pyproject", stamp, problems)
            if layer is not None or len(problems) > before:
                return path, "pyproject", layer or {}
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def _warn_if_shadowed(directory: str, project_path: str) -> None:
    """A ``[tool.wattprint]`` table beside a wattprint.toml is ignored; say so once."""
    path = os.path.join(directory, PYPROJECT_FILE)
    stamp = _stamp(path)
    if stamp is None or _file_layer(path, "pyproject", stamp, []) is None:
        return
    from wattprint._log import warn_once

    warn_once(
        f"config-shadowed:{path}",
        f"wattprint: settings are read from {project_path}; the [tool.wattprint] table in {path} is ignored",
    )


def user_config_path(user_config: str | None = None, *, environ: Mapping[str, str] | None = None,
                     cwd: str | None = None) -> tuple[str, bool]:
    """The user config file to read and whether it was named explicitly (``user_config`` or
    ``$WATTPRINT_CONFIG``), in which case it must exist; otherwise the per-user ``config.toml``."""
    environ = os.environ if environ is None else environ
    named = user_config if user_config is not None else (environ.get(CONFIG_VARIABLE) or "").strip()
    if named:
        path = os.path.expanduser(named)
        if not os.path.isabs(path):
            path = os.path.join(os.path.abspath(os.getcwd() if cwd is None else cwd), path)
        return os.path.normpath(path), True
    import platformdirs

    return os.path.join(platformdirs.user_config_dir("wattprint", appauthor=False), USER_CONFIG_NAME), False


def _user_layer(
    user_config: str | None, environ: Mapping[str, str], cwd: str | None, problems: list[str]
) -> Layer:
    path, named = user_config_path(user_config, environ=environ, cwd=cwd)
    stamp = _stamp(path)
    if stamp is None:  # no file; a device such as /dev/null reads as an empty config
        if named and (not os.path.exists(path) or os.path.isdir(path)):
            given = f"user_config={user_config!r}" if user_config is not None else \
                f"{CONFIG_VARIABLE}={environ.get(CONFIG_VARIABLE)!r}"
            what = "is a directory, not a file" if os.path.isdir(path) else "does not exist"
            problems.append(f"user config {path} (from {given}) {what}")
        return {}
    return _file_layer(path, "user", stamp, problems) or {}


# -- the result --------------------------------------------------------------------------------------------------


class Config:
    """The value of every key and where it came from; immutable. Build one with ``load_config()``."""

    __slots__ = ("_settings",)

    def __init__(self, settings: Mapping[str, Setting]) -> None:
        self._settings = {key.name: settings.get(key.name, _DEFAULTS[key.name]) for key in KEYS}

    def get(self, key: str) -> object:
        """The value of ``key``."""
        return self.setting(key).value

    def setting(self, key: str) -> Setting:
        """The value of ``key`` and its source."""
        try:
            return self._settings[key]
        except KeyError:
            raise ConfigError(_unknown(key, "asked of the configuration")) from None

    def settings(self) -> list[Setting]:
        """Every key, in registry order."""
        return list(self._settings.values())

    def as_dict(self) -> dict[str, object]:
        """Every key's value, in registry order."""
        return {name: setting.value for name, setting in self._settings.items()}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Config) and other._settings == self._settings

    def __repr__(self) -> str:
        given = ", ".join(f"{s.key}={s.value!r}" for s in self._settings.values() if s.source != "default")
        return f"Config({given})"


def load_config(
    arguments: Mapping[str, object] | None = None,
    *,
    cwd: str | None = None,
    environ: Mapping[str, str] | None = None,
    user_config: str | None = None,
) -> Config:
    """Resolve every key: ``arguments`` (None values mean "not given") > ``WATTPRINT_*`` in ``environ``
    (default ``os.environ``) > the nearest project file from ``cwd`` (default: the working directory) upwards >
    the user config (``user_config``, else ``$WATTPRINT_CONFIG``, else the per-user ``config.toml``) > defaults.

    Every source is checked, even where a higher one overrides it; all problems are reported in one ConfigError.
    Parsed files are cached by modification stamp, so repeated calls cost only a few ``stat`` calls. An unknown
    ``WATTPRINT_*`` variable is logged once as a warning (it is probably a typo).
    """
    environ = os.environ if environ is None else environ
    config, problems = _resolve(arguments, cwd, environ, user_config)
    _warn_unknown_variables(environ)
    if problems:
        if len(problems) == 1:
            raise ConfigError(problems[0])
        raise ConfigError(f"{len(problems)} configuration problems:\n" + "\n".join("- " + p for p in problems))
    return config


def inspect_config(
    arguments: Mapping[str, object] | None = None,
    *,
    cwd: str | None = None,
    environ: Mapping[str, str] | None = None,
    user_config: str | None = None,
) -> tuple[Config, list[str], list[str]]:
    """What ``load_config`` would resolve, without raising: the configuration from every source that could be
    read (a broken file counts as empty), the problems ``load_config`` would raise, and warnings (unknown
    ``WATTPRINT_*`` variables). For ``wattprint doctor`` and ``wattprint config``."""
    environ = os.environ if environ is None else environ
    config, problems = _resolve(arguments, cwd, environ, user_config)
    return config, problems, unknown_variables(environ)


def _resolve(
    arguments: Mapping[str, object] | None, cwd: str | None, environ: Mapping[str, str], user_config: str | None
) -> tuple[Config, list[str]]:
    problems: list[str] = []
    layers = [_argument_layer(arguments, problems), _environment_layer(environ, problems)]
    found = _find_project(cwd, problems)
    if found is not None:
        layers.append(found[2])
    layers.append(_user_layer(user_config, environ, cwd, problems))
    chosen: dict[str, Setting] = {}
    for layer in reversed(layers):
        chosen.update(layer)
    return Config(chosen), problems


# -- documentation -----------------------------------------------------------------------------------------------


def _toml_literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_literal(item) for item in value) + "]"
    return repr(value)


def _allowed_doc(key: Key) -> str:
    listed = ", ".join(f"`{choice}`" for choice in key_choices(key))
    if key.kind == "str":
        return f"one of {listed}" if key.choices else (key.allowed or "string")
    if key.kind in ("float", "int"):
        name = "number" if key.kind == "float" else "integer"
        low, high = key.minimum, key.maximum
        if low is not None and high is not None:
            return f"{name}, {low:g} to {high:g}"
        if low is not None:
            return f"{name}, at least {low:g}"
        return f"{name}, at most {high:g}" if high is not None else name
    if key.kind == "bool":
        return "boolean"
    return f"list of {listed or 'strings'}"


def describe_keys() -> str:
    """A Markdown table of every key: name, environment variable, type and allowed values, default, meaning."""
    rows = [
        "| key | environment variable | type and allowed values | default | meaning |",
        "|---|---|---|---|---|",
    ]
    for key in KEYS:
        default = (key.default_doc or "not set") if key.default is None else f"`{_toml_literal(key.default)}`"
        cells = (f"`{key.name}`", f"`{key.env_var}`", _allowed_doc(key), default, key.doc)
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows) + "\n"



def _log_level() -> str:
    return str(load_config().get("log_level"))


_log.set_level_source(_log_level)

if __name__ == "__main__":
    print(describe_keys(), end="")
