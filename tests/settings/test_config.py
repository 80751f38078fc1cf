"""Configuration: precedence of arguments, environment, project file and user config; sources; errors; docs.

Every test writes real files in its own temporary tree and sets the environment through monkeypatch.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from wattprint.core.errors import ConfigError
from wattprint.settings import config
from wattprint.settings.config import KEYS, Config, Key, Setting, check_value, describe_keys, load_config

ROOT = Path(__file__).resolve().parents[2]
NAMES = [key.name for key in KEYS]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No WATTPRINT_* variables, and a per-user config directory of the test's own (empty at first)."""
    for name in list(os.environ):
        if name.startswith("WATTPRINT_"):
            monkeypatch.delenv(name)
    xdg = tmp_path / "xdg-config"
    xdg.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    return xdg


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A directory with no project file in it or above it."""
    directory = tmp_path / "work"
    directory.mkdir()
    assert config.find_project_file(str(directory)) is None, "a project file above the test tree"
    return directory


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def error_of(**kwargs: object) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(**kwargs)
    return str(info.value)


# -- defaults and the registry -----------------------------------------------------------------------------------


def test_defaults_when_nothing_is_set(work: Path) -> None:
    cfg = load_config(cwd=str(work), environ={})
    assert cfg.as_dict() == {key.name: key.default for key in KEYS}
    assert [s.key for s in cfg.settings()] == NAMES
    assert all(s.source == "default" for s in cfg.settings())
    assert cfg.get("attribution") == "machine"
    assert cfg.get("interval_s") == 1.0
    assert cfg.get("flush_interval_s") == 10.0
    assert cfg.get("gpus") is True
    assert cfg.get("rapl_domains") == ("package", "dram")
    assert cfg.get("cloud_metadata") is False and cfg.get("ip_geolocation") is False
    assert cfg.get("log_level") == "info"
    for name in ("project", "store", "cpu_tdp_w", "powercap_root", "location", "pue"):
        assert cfg.get(name) is None


def test_registry_is_consistent() -> None:
    assert NAMES == [
        "project", "store", "attribution", "interval_s", "flush_interval_s", "store_command", "gpus", "cpu_tdp_w",
        "powercap_root",
        "rapl_domains", "location", "pue", "cloud_metadata", "ip_geolocation", "predict_after", "prediction_level",
        "budget_kwh", "budget_g", "budget_policy", "budget_basis", "intensity_provider", "intensity_zone",
        "electricitymaps_token", "watttime_username", "watttime_password", "intensity_url", "intensity_timeout_s",
        "intensity_disk_cache", "log_level", "server", "server_token",
        "exporters", "prometheus_port", "prometheus_addr", "prometheus_textfile", "pushgateway_url", "pushgateway_job",
        "csv_log_path", "mlflow_tracking_uri", "mlflow_experiment", "wandb_project", "wandb_entity", "wandb_mode",
        "otlp_endpoint", "otlp_headers",
    ]
    assert len(set(NAMES)) == len(NAMES)
    assert len({key.env_var for key in KEYS}) == len(KEYS)
    assert {key.name: key.env_var for key in KEYS}["powercap_root"] == "WATTPRINT_POWERCAP_ROOT"
    assert config.CONFIG_VARIABLE not in {key.env_var for key in KEYS}
    for key in KEYS:
        assert key.kind in config.KINDS
        assert key.doc and "\n" not in key.doc and "|" not in key.doc
        if key.default is not None:  # every default passes its own check
            assert check_value(key.name, key.default) == key.default


def test_a_key_with_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="kind"):
        Key("x", "complex", None, "doc")


def test_import_is_cheap() -> None:
    code = (
        "import sys, wattprint.settings.config\n"
        "heavy = {'tomllib', 'tomli', 'platformdirs', 'difflib', 'logging'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr


# -- precedence and sources --------------------------------------------------------------------------------------


def test_precedence_across_all_four_sources(tmp_path: Path, work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user = write(tmp_path / "user.toml", 'interval_s = 5\nproject = "from-user"\nlocation = "FR"\npue = 1.1\n')
    project = write(work / "wattprint.toml", 'interval_s = 4\nproject = "from-project"\nlocation = "DE"\n')
    monkeypatch.setenv("WATTPRINT_CONFIG", str(user))
    monkeypatch.setenv("WATTPRINT_INTERVAL_S", "3")
    monkeypatch.setenv("WATTPRINT_PROJECT", "from-env")

    cfg = load_config({"interval_s": 2, "project": None}, cwd=str(work))

    assert cfg.setting("interval_s") == Setting("interval_s", 2.0, "argument")
    assert cfg.setting("project") == Setting("project", "from-env", "environment variable WATTPRINT_PROJECT")
    assert cfg.setting("location") == Setting("location", "DE", str(project))
    assert cfg.setting("pue") == Setting("pue", 1.1, f"user config {user}")
    assert cfg.setting("gpus") == Setting("gpus", True, "default")

    # Take the sources away one at a time, highest first.
    assert load_config(cwd=str(work)).setting("interval_s").source == "environment variable WATTPRINT_INTERVAL_S"
    monkeypatch.delenv("WATTPRINT_INTERVAL_S")
    assert load_config(cwd=str(work)).setting("interval_s") == Setting("interval_s", 4.0, str(project))
    project.unlink()
    assert load_config(cwd=str(work)).setting("interval_s") == Setting("interval_s", 5.0, f"user config {user}")
    monkeypatch.delenv("WATTPRINT_CONFIG")
    assert load_config(cwd=str(work)).setting("interval_s") == Setting("interval_s", 1.0, "default")


def test_explicit_environ_replaces_the_process_environment(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATTPRINT_PROJECT", "process-env")
    assert load_config(cwd=str(work), environ={}).get("project") is None
    cfg = load_config(cwd=str(work), environ={"WATTPRINT_PROJECT": "given"})
    assert cfg.setting("project") == Setting("project", "given", "environment variable WATTPRINT_PROJECT")
    assert load_config(cwd=str(work)).get("project") == "process-env"


def test_every_key_reports_its_own_source(tmp_path: Path, work: Path) -> None:
    user = write(tmp_path / "user.toml", 'location = "SE"\n')
    pyproject = write(work / "pyproject.toml", '[project]\nname = "x"\n\n[tool.wattprint]\ngpus = false\n')
    cfg = load_config({"attribution": "process"}, cwd=str(work), environ={"WATTPRINT_PUE": "1.2"},
                      user_config=str(user))
    sources = {s.key: s.source for s in cfg.settings()}
    assert sources == {
        **{name: "default" for name in NAMES},
        "attribution": "argument",
        "pue": "environment variable WATTPRINT_PUE",
        "gpus": f"{pyproject} [tool.wattprint]",
        "location": f"user config {user}",
    }
    assert cfg.get("gpus") is False


def test_none_arguments_mean_not_given(work: Path) -> None:
    cfg = load_config({name: None for name in NAMES}, cwd=str(work), environ={"WATTPRINT_LOG_LEVEL": "debug"})
    assert cfg.setting("log_level").source == "environment variable WATTPRINT_LOG_LEVEL"
    assert all(s.source != "argument" for s in cfg.settings())


def test_arguments_take_python_values(work: Path) -> None:
    cfg = load_config(
        {"rapl_domains": ["psys"], "gpus": False, "cpu_tdp_w": 250, "interval_s": 0.5, "attribution": "cgroup",
         "store": "off", "project": "p", "location": "us-east-1"},
        cwd=str(work), environ={},
    )
    assert cfg.get("rapl_domains") == ("psys",)
    assert cfg.get("cpu_tdp_w") == 250.0 and isinstance(cfg.get("cpu_tdp_w"), float)
    assert cfg.get("gpus") is False
    assert load_config({"rapl_domains": "package"}, cwd=str(work), environ={}).get("rapl_domains") == ("package",)


def test_empty_environment_variables_count_as_unset(work: Path) -> None:
    cfg = load_config(cwd=str(work), environ={"WATTPRINT_INTERVAL_S": "", "WATTPRINT_PROJECT": "  "})
    assert cfg.setting("interval_s").source == "default"
    assert cfg.setting("project").source == "default"


def test_config_object(work: Path) -> None:
    cfg = load_config({"project": "p"}, cwd=str(work), environ={})
    assert isinstance(cfg, Config)
    assert list(cfg.as_dict()) == NAMES
    assert cfg == load_config({"project": "p"}, cwd=str(work), environ={})
    assert "project='p'" in repr(cfg)
    with pytest.raises(ConfigError, match=r"unknown key 'interval' .*did you mean 'interval_s'"):
        cfg.get("interval")
    with pytest.raises(ConfigError, match="unknown key 'nothing'"):
        cfg.setting("nothing")


# -- the project file search -------------------------------------------------------------------------------------


def test_wattprint_toml_is_found_from_nested_directories(work: Path) -> None:
    project = write(work / "wattprint.toml", 'project = "root"\n')
    deep = work / "a" / "b" / "c"
    deep.mkdir(parents=True)
    assert config.find_project_file(str(deep)) == (str(project), "project")
    assert load_config(cwd=str(deep), environ={}).setting("project") == Setting("project", "root", str(project))


def test_the_working_directory_is_the_default_start(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = write(work / "wattprint.toml", 'project = "here"\n')
    (work / "sub").mkdir()
    monkeypatch.chdir(work / "sub")
    assert load_config(environ={}).setting("project") == Setting("project", "here", str(project))


def test_a_pyproject_without_the_table_does_not_stop_the_search(work: Path) -> None:
    project = write(work / "wattprint.toml", 'project = "outer"\n')
    write(work / "inner" / "pyproject.toml", '[project]\nname = "inner"\n\n[tool.ruff]\nline-length = 99\n')
    write(work / "inner" / "pkg" / "pyproject.toml", 'tool = "not a table"\n')
    cwd = work / "inner" / "pkg" / "src"
    cwd.mkdir(parents=True)
    assert load_config(cwd=str(cwd), environ={}).setting("project") == Setting("project", "outer", str(project))


def test_the_nearest_file_wins_and_files_are_not_merged(work: Path) -> None:
    write(work / "wattprint.toml", 'project = "outer"\nlocation = "FR"\n')
    inner = write(work / "inner" / "pyproject.toml", '[tool.wattprint]\nproject = "inner"\n')
    cfg = load_config(cwd=str(work / "inner"), environ={})
    assert cfg.setting("project") == Setting("project", "inner", f"{inner} [tool.wattprint]")
    assert cfg.setting("location").source == "default"


def test_an_empty_tool_table_marks_the_project_root(work: Path) -> None:
    write(work / "wattprint.toml", 'project = "outer"\n')
    inner = write(work / "inner" / "pyproject.toml", "[tool.wattprint]\n")
    assert config.find_project_file(str(work / "inner")) == (str(inner), "pyproject")
    assert load_config(cwd=str(work / "inner"), environ={}).get("project") is None


def test_wattprint_toml_beats_pyproject_in_the_same_directory(work: Path, caplog: pytest.LogCaptureFixture) -> None:
    project = write(work / "wattprint.toml", 'project = "wattprint-toml"\n')
    pyproject = write(work / "pyproject.toml", '[tool.wattprint]\nproject = "pyproject"\nlocation = "DE"\n')
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        cfg = load_config(cwd=str(work), environ={})
        load_config(cwd=str(work), environ={})
    assert cfg.setting("project") == Setting("project", "wattprint-toml", str(project))
    assert cfg.setting("location").source == "default"
    warnings = [r.getMessage() for r in caplog.records if "is ignored" in r.getMessage()]
    assert len(warnings) == 1 and str(pyproject) in warnings[0]


def test_a_directory_named_wattprint_toml_is_not_a_file(work: Path) -> None:
    (work / "wattprint.toml").mkdir()
    assert config.find_project_file(str(work)) is None
    assert load_config(cwd=str(work), environ={}).get("project") is None


def test_relative_paths_in_files_are_relative_to_the_file(tmp_path: Path, work: Path) -> None:
    write(work / "wattprint.toml", 'store = "runs/wattprint.db"\npowercap_root = "trees/a:/abs/b"\n')
    deep = work / "x" / "y"
    deep.mkdir(parents=True)
    cfg = load_config(cwd=str(deep), environ={})
    assert cfg.get("store") == str(work / "runs" / "wattprint.db")
    assert cfg.get("powercap_root") == f"{work / 'trees' / 'a'}:/abs/b"
    user = write(tmp_path / "home" / "cfg.toml", 'store = "mine.db"\n')
    (work / "wattprint.toml").unlink()
    assert load_config(cwd=str(deep), environ={}, user_config=str(user)).get("store") == str(user.parent / "mine.db")
    # From the environment and arguments a relative path stays as given (relative to the process's directory).
    assert load_config(cwd=str(deep), environ={"WATTPRINT_STORE": "rel.db"}).get("store") == "rel.db"
    assert load_config({"store": "rel.db"}, cwd=str(deep), environ={}).get("store") == "rel.db"


def test_store_values(work: Path) -> None:
    home = os.path.expanduser("~")
    for given, expected in [
        ("off", "off"), ("OFF", "off"), ("sqlite:///tmp/x.db", "sqlite:///tmp/x.db"),
        ("postgresql://u@db/wattprint", "postgresql://u@db/wattprint"),
        ("postgresql+psycopg://u@db/w", "postgresql+psycopg://u@db/w"), ("~/runs.db", f"{home}/runs.db"),
    ]:
        assert load_config(cwd=str(work), environ={"WATTPRINT_STORE": given}).get("store") == expected


def test_a_changed_file_is_read_again_and_an_unchanged_one_is_not(work: Path) -> None:
    path = write(work / "wattprint.toml", "interval_s = 2\n")
    first = load_config(cwd=str(work), environ={})
    assert load_config(cwd=str(work), environ={}).setting("interval_s") is first.setting("interval_s")  # cached
    stat = path.stat()
    path.write_text("interval_s = 3\n")  # same size: only the modification time tells
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert load_config(cwd=str(work), environ={}).get("interval_s") == 3.0


# -- the user config file ----------------------------------------------------------------------------------------


def test_the_per_user_config_file(clean_environment: Path, work: Path) -> None:
    user = write(clean_environment / "wattprint" / "config.toml", 'log_level = "info"\n')
    assert config.user_config_path(environ={}) == (str(user), False)
    assert load_config(cwd=str(work), environ={}).setting("log_level") == Setting(
        "log_level", "info", f"user config {user}"
    )


def test_wattprint_config_points_at_another_user_config(
    clean_environment: Path, tmp_path: Path, work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(clean_environment / "wattprint" / "config.toml", 'log_level = "info"\n')
    other = write(tmp_path / "elsewhere" / "my.toml", 'log_level = "error"\n')
    monkeypatch.setenv("WATTPRINT_CONFIG", str(other))
    assert load_config(cwd=str(work)).setting("log_level") == Setting("log_level", "error", f"user config {other}")
    # Relative to the working directory.
    monkeypatch.setenv("WATTPRINT_CONFIG", "../elsewhere/my.toml")
    assert load_config(cwd=str(work)).setting("log_level").source == f"user config {other}"
    # The user_config argument beats the variable.
    third = write(tmp_path / "third.toml", 'log_level = "debug"\n')
    assert load_config(cwd=str(work), user_config=str(third)).get("log_level") == "debug"
    # /dev/null: no user config at all.
    monkeypatch.setenv("WATTPRINT_CONFIG", os.devnull)
    assert load_config(cwd=str(work)).setting("log_level").source == "default"


def test_a_named_user_config_must_exist(tmp_path: Path, work: Path) -> None:
    missing = tmp_path / "nope.toml"
    message = error_of(cwd=str(work), environ={"WATTPRINT_CONFIG": str(missing)})
    assert message == f"user config {missing} (from WATTPRINT_CONFIG={str(missing)!r}) does not exist"
    message = error_of(cwd=str(work), environ={}, user_config=str(missing))
    assert message == f"user config {missing} (from user_config={str(missing)!r}) does not exist"
    message = error_of(cwd=str(work), environ={}, user_config=str(tmp_path))
    assert "is a directory" in message


def test_the_user_config_takes_top_level_keys_only(tmp_path: Path, work: Path) -> None:
    user = write(tmp_path / "user.toml", '[tool.wattprint]\nproject = "x"\n')
    message = error_of(cwd=str(work), environ={}, user_config=str(user))
    assert message.startswith(f"unknown key 'tool' in user config {user}; known keys: project, store,")


# -- environment strings -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", True), ("0", False), ("true", True), ("FALSE", False), ("Yes", True), ("no", False), ("on", True),
     (" OFF ", False)],
)
def test_booleans_from_the_environment(work: Path, text: str, expected: bool) -> None:
    cfg = load_config(cwd=str(work), environ={"WATTPRINT_GPUS": text, "WATTPRINT_IP_GEOLOCATION": text})
    assert cfg.get("gpus") is expected and cfg.get("ip_geolocation") is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("psys", ("psys",)), (" package , dram ,psys", ("package", "dram", "psys")), ("dram,DRAM,", ("dram",))],
)
def test_lists_from_the_environment(work: Path, text: str, expected: tuple[str, ...]) -> None:
    assert load_config(cwd=str(work), environ={"WATTPRINT_RAPL_DOMAINS": text}).get("rapl_domains") == expected


def test_numbers_and_choices_from_the_environment(work: Path) -> None:
    cfg = load_config(cwd=str(work), environ={
        "WATTPRINT_INTERVAL_S": " 0.25 ", "WATTPRINT_CPU_TDP_W": "1e3", "WATTPRINT_ATTRIBUTION": "Process",
        "WATTPRINT_LOG_LEVEL": "INFO", "WATTPRINT_POWERCAP_ROOT": "/a:/b",
    })
    assert cfg.get("interval_s") == 0.25
    assert cfg.get("cpu_tdp_w") == 1000.0
    assert cfg.get("attribution") == "process"
    assert cfg.get("log_level") == "info"
    assert cfg.get("powercap_root") == "/a:/b"


def test_other_wattprint_variables_are_not_keys(work: Path) -> None:
    cfg = load_config(cwd=str(work), environ={"WATTPRINT_NVML_MODULE": "fake", "WATTPRINT_SOMETHING": "x"})
    assert all(s.source == "default" for s in cfg.settings())


# -- bad values --------------------------------------------------------------------------------------------------

ENV_BAD = [
    ("WATTPRINT_INTERVAL_S", "abc", "interval_s = 'abc' from environment variable WATTPRINT_INTERVAL_S: "
     "must be a number between 0.01 and 3600"),
    ("WATTPRINT_INTERVAL_S", "0.001", "interval_s = '0.001' from environment variable WATTPRINT_INTERVAL_S: "
     "must be a number between 0.01 and 3600"),
    ("WATTPRINT_PUE", "nan", "pue = 'nan' from environment variable WATTPRINT_PUE: must be a number between 1 and 3"),
    ("WATTPRINT_CPU_TDP_W", "inf", "cpu_tdp_w = 'inf' from environment variable WATTPRINT_CPU_TDP_W: "
     "must be a number between 1 and 10000"),
    ("WATTPRINT_FLUSH_INTERVAL_S", "0.05", "flush_interval_s = '0.05' from environment variable "
     "WATTPRINT_FLUSH_INTERVAL_S: must be a number between 0.1 and 3600"),
    ("WATTPRINT_GPUS", "maybe", "gpus = 'maybe' from environment variable WATTPRINT_GPUS: "
     "must be true or false (1/0, true/false, yes/no, on/off)"),
    ("WATTPRINT_CLOUD_METADATA", "2", "cloud_metadata = '2' from environment variable WATTPRINT_CLOUD_METADATA: "
     "must be true or false (1/0, true/false, yes/no, on/off)"),
    ("WATTPRINT_ATTRIBUTION", "container", "attribution = 'container' from environment variable "
     "WATTPRINT_ATTRIBUTION: must be one of 'machine', 'process', 'cgroup'"),
    ("WATTPRINT_LOG_LEVEL", "verbose", "log_level = 'verbose' from environment variable WATTPRINT_LOG_LEVEL: "
     "must be one of 'debug', 'info', 'warning', 'error'"),
    ("WATTPRINT_RAPL_DOMAINS", "package,gpu", "rapl_domains = 'package,gpu' from environment variable "
     "WATTPRINT_RAPL_DOMAINS: must be a comma-separated list of 'package', 'dram', 'psys'"),
    ("WATTPRINT_RAPL_DOMAINS", ",", "rapl_domains = ',' from environment variable WATTPRINT_RAPL_DOMAINS: "
     "must be a comma-separated list of 'package', 'dram', 'psys'"),
    ("WATTPRINT_STORE", "mysql://db/x", "store = 'mysql://db/x' from environment variable WATTPRINT_STORE: "
     "must be 'off', a file path, or a 'sqlite:///' or 'postgresql://' URL"),
    ("WATTPRINT_POWERCAP_ROOT", "/a::/b", "powercap_root = '/a::/b' from environment variable "
     "WATTPRINT_POWERCAP_ROOT: must be a directory, or several separated by ':'"),
]


@pytest.mark.parametrize(("variable", "value", "message"), ENV_BAD)
def test_bad_values_from_the_environment(
    work: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    assert error_of(cwd=str(work)) == message


TOML_BAD = [
    ('interval_s = "1.5"', "interval_s = '1.5'", "must be a number between 0.01 and 3600"),
    ("interval_s = true", "interval_s = True", "must be a number between 0.01 and 3600"),
    ("interval_s = 7200", "interval_s = 7200", "must be a number between 0.01 and 3600"),
    ("pue = 0.9", "pue = 0.9", "must be a number between 1 and 3"),
    ('gpus = "yes"', "gpus = 'yes'", "must be true or false"),
    ("gpus = 1", "gpus = 1", "must be true or false"),
    ('attribution = "container"', "attribution = 'container'", "must be one of 'machine', 'process', 'cgroup'"),
    ('rapl_domains = ["package", 3]', "rapl_domains = ['package', 3]",
     "must be a non-empty list of 'package', 'dram', 'psys'"),
    ("rapl_domains = []", "rapl_domains = []", "must be a non-empty list of 'package', 'dram', 'psys'"),
    ('rapl_domains = ["gpu"]', "rapl_domains = ['gpu']", "must be a non-empty list of 'package', 'dram', 'psys'"),
    ('project = ""', "project = ''", "must be a non-empty string"),
    ("project = 5", "project = 5", "must be a non-empty string"),
    ("location = { country = 'FR' }", "location = {'country': 'FR'}", "must be a non-empty string"),
    ('store = "ftp://x/y"', "store = 'ftp://x/y'", "must be 'off', a file path, or a 'sqlite:///' or "
     "'postgresql://' URL"),
]


@pytest.mark.parametrize(("line", "shown", "must"), TOML_BAD)
@pytest.mark.parametrize("where", ["wattprint.toml", "pyproject.toml", "user"])
def test_bad_values_from_files(tmp_path: Path, work: Path, where: str, line: str, shown: str, must: str) -> None:
    if where == "wattprint.toml":
        path = write(work / "wattprint.toml", line + "\n")
        source, user = str(path), None
    elif where == "pyproject.toml":
        path = write(work / "pyproject.toml", f"[tool.wattprint]\n{line}\n")
        source, user = f"{path} [tool.wattprint]", None
    else:
        path = write(tmp_path / "user.toml", line + "\n")
        source, user = f"user config {path}", str(path)
    assert error_of(cwd=str(work), environ={}, user_config=user) == f"{shown} from {source}: {must}"


ARGUMENT_BAD = [
    ({"interval_s": "1.5"}, "interval_s = '1.5' from argument: must be a number between 0.01 and 3600"),
    ({"interval_s": 0}, "interval_s = 0 from argument: must be a number between 0.01 and 3600"),
    ({"cpu_tdp_w": float("nan")}, "cpu_tdp_w = nan from argument: must be a number between 1 and 10000"),
    ({"gpus": 1}, "gpus = 1 from argument: must be true or false"),
    ({"gpus": "false"}, "gpus = 'false' from argument: must be true or false"),
    ({"attribution": "all"}, "attribution = 'all' from argument: must be one of 'machine', 'process', 'cgroup'"),
    ({"rapl_domains": ("package", "gpu")},
     "rapl_domains = ('package', 'gpu') from argument: must be a non-empty list of 'package', 'dram', 'psys'"),
    ({"rapl_domains": 5}, "rapl_domains = 5 from argument: must be a non-empty list of 'package', 'dram', 'psys'"),
    ({"project": "  "}, "project = '  ' from argument: must be a non-empty string"),
]


@pytest.mark.parametrize(("arguments", "message"), ARGUMENT_BAD)
def test_bad_arguments(work: Path, arguments: dict[str, object], message: str) -> None:
    assert error_of(arguments=arguments, cwd=str(work), environ={}) == message


def test_a_bad_value_is_an_error_even_where_a_higher_source_overrides_it(work: Path) -> None:
    path = write(work / "wattprint.toml", 'gpus = "nope"\n')
    message = error_of(arguments={"gpus": True}, cwd=str(work), environ={})
    assert message == f"gpus = 'nope' from {path}: must be true or false"


def test_all_problems_are_reported_at_once(tmp_path: Path, work: Path) -> None:
    project = write(work / "wattprint.toml", 'interval_s = "fast"\nintervl_s = 2\n')
    user = write(tmp_path / "user.toml", 'log_level = "loud"\n')
    message = error_of(arguments={"gpus": "yes"}, cwd=str(work), environ={"WATTPRINT_PUE": "4"},
                       user_config=str(user))
    lines = message.splitlines()
    assert lines[0] == "5 configuration problems:"
    assert lines[1] == "- gpus = 'yes' from argument: must be true or false"
    assert lines[2] == "- pue = '4' from environment variable WATTPRINT_PUE: must be a number between 1 and 3"
    assert lines[3] == f"- interval_s = 'fast' from {project}: must be a number between 0.01 and 3600"
    assert lines[4].startswith(f"- unknown key 'intervl_s' in {project} (did you mean 'interval_s'?); known keys: ")
    assert lines[5] == f"- log_level = 'loud' from user config {user}: must be one of 'debug', 'info', 'warning', " \
        "'error'"


def test_a_bad_file_is_reported_again_on_every_call(work: Path) -> None:
    write(work / "wattprint.toml", "pue = 9\n")
    for _ in range(2):
        assert "pue = 9 from" in error_of(cwd=str(work), environ={})


# -- unknown keys and broken files -------------------------------------------------------------------------------

KNOWN = ", ".join(NAMES)


def test_unknown_key_in_wattprint_toml(work: Path) -> None:
    path = write(work / "wattprint.toml", "intervl_s = 2\n")
    assert error_of(cwd=str(work), environ={}) == (
        f"unknown key 'intervl_s' in {path} (did you mean 'interval_s'?); known keys: {KNOWN}"
    )


def test_unknown_key_in_pyproject(work: Path) -> None:
    path = write(work / "pyproject.toml", "[tool.wattprint]\nGPUs = false\n")
    assert error_of(cwd=str(work), environ={}) == (
        f"unknown key 'GPUs' in {path} [tool.wattprint] (did you mean 'gpus'?); known keys: {KNOWN}"
    )


def test_unknown_key_in_the_user_config(tmp_path: Path, work: Path) -> None:
    path = write(tmp_path / "user.toml", "colour = 'green'\n")
    assert error_of(cwd=str(work), environ={}, user_config=str(path)) == (
        f"unknown key 'colour' in user config {path}; known keys: {KNOWN}"
    )


def test_unknown_key_in_arguments(work: Path) -> None:
    assert error_of(arguments={"attributon": "process"}, cwd=str(work), environ={}) == (
        f"unknown key 'attributon' in arguments (did you mean 'attribution'?); known keys: {KNOWN}"
    )
    # An unknown key is an error even when its value is None.
    assert "unknown key 'colour'" in error_of(arguments={"colour": None}, cwd=str(work), environ={})


def test_a_nested_table_in_wattprint_toml_is_an_unknown_key(work: Path) -> None:
    path = write(work / "wattprint.toml", "[carbon]\nlocation = 'FR'\n")
    assert error_of(cwd=str(work), environ={}).startswith(f"unknown key 'carbon' in {path}; known keys:")


def test_tool_wattprint_must_be_a_table(work: Path) -> None:
    path = write(work / "pyproject.toml", '[tool]\nwattprint = "on"\n')
    assert error_of(cwd=str(work), environ={}) == f"{path}: tool.wattprint must be a table of settings, got 'on'"


@pytest.mark.parametrize("name", ["wattprint.toml", "pyproject.toml"])
def test_a_toml_syntax_error_names_the_file_and_line(work: Path, name: str) -> None:
    path = write(work / name, '[tool.wattprint]\nproject = "x"\ninterval_s = \n')
    message = error_of(cwd=str(work / "."), environ={})
    assert message.startswith(f"{path}: invalid TOML: ")
    assert re.search(r"line 3\b", message), message


def test_a_broken_pyproject_stops_the_search(work: Path) -> None:
    write(work / "wattprint.toml", 'project = "outer"\n')
    path = write(work / "inner" / "pyproject.toml", "[project\n")
    assert error_of(cwd=str(work / "inner"), environ={}).startswith(f"{path}: invalid TOML: ")


def test_a_toml_syntax_error_in_the_user_config(tmp_path: Path, work: Path) -> None:
    path = write(tmp_path / "user.toml", 'project = "x\n')
    message = error_of(cwd=str(work), environ={"WATTPRINT_CONFIG": str(path)})
    assert message.startswith(f"{path}: invalid TOML: ") and "line 1" in message


def test_a_file_that_is_not_utf8(work: Path) -> None:
    path = work / "wattprint.toml"
    path.write_bytes(b'project = "caf\xe9"\n')
    assert error_of(cwd=str(work), environ={}).startswith(f"{path}: not UTF-8 text")


def test_an_empty_file_sets_nothing(work: Path) -> None:
    path = write(work / "wattprint.toml", "# nothing yet\n")
    assert config.find_project_file(str(work)) == (str(path), "project")
    assert all(s.source == "default" for s in load_config(cwd=str(work), environ={}).settings())


# -- check_value (for command-line options) and kinds not yet in the registry -----------------------------------


def test_check_value() -> None:
    assert check_value("interval_s", "2", text=True) == 2.0
    assert check_value("gpus", "off", text=True) is False
    assert check_value("rapl_domains", ["PSYS"]) == ("psys",)
    with pytest.raises(ConfigError) as info:
        check_value("interval_s", "x", source="option --interval-s", text=True)
    assert str(info.value) == "interval_s = 'x' from option --interval-s: must be a number between 0.01 and 3600"
    with pytest.raises(ConfigError, match="unknown key 'interval' in argument"):
        check_value("interval", 1)


def test_integer_keys() -> None:
    key = Key("retries", "int", 3, "How often to retry.", minimum=0, maximum=10)
    assert config._convert(key, 4, text=False, base=None) == 4
    assert config._convert(key, " 7 ", text=True, base=None) == 7
    for bad, text in ((4.0, False), (True, False), ("4", False), ("4.5", True), (11, False), ("-1", True)):
        with pytest.raises(config._NotAllowed):
            config._convert(key, bad, text=text, base=None)
    assert config._must(key, False) == "a whole number between 0 and 10"
    assert config._allowed_doc(key) == "integer, 0 to 10"


# -- documentation -----------------------------------------------------------------------------------------------


def test_describe_keys_lists_every_key() -> None:
    table = describe_keys()
    lines = table.splitlines()
    assert lines[0] == "| key | environment variable | type and allowed values | default | meaning |"
    assert len(lines) == 2 + len(KEYS)
    for key, line in zip(KEYS, lines[2:], strict=True):
        assert line.startswith(f"| `{key.name}` | `{key.env_var}` | ")
        assert key.doc in line
    assert "| one of `machine`, `process`, `cgroup` | `\"machine\"` |" in table
    assert "| number, 0.01 to 3600 | `1.0` |" in table
    assert '| list of `package`, `dram`, `psys` | `["package", "dram"]` |' in table
    assert "| boolean | `false` |" in table


def test_the_documented_key_table_is_describe_keys() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    match = re.search(r"<!-- keys:start.*?-->\n(.*?)<!-- keys:end -->", text, flags=re.DOTALL)
    assert match, "docs/configuration.md has no <!-- keys:start --> ... <!-- keys:end --> block"
    assert match.group(1) == describe_keys(), "regenerate it with: python -m wattprint.settings.config"


def test_the_documented_examples_are_valid(tmp_path: Path) -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    blocks = re.findall(r"```toml\n(.*?)```", text, flags=re.DOTALL)
    assert len(blocks) >= 2
    for index, block in enumerate(blocks):
        directory = tmp_path / f"example-{index}"
        name = "pyproject.toml" if "[tool.wattprint]" in block else "wattprint.toml"
        write(directory / name, block)
        cfg = load_config(cwd=str(directory), environ={}, user_config=os.devnull)
        assert any(s.source != "default" for s in cfg.settings())


def test_python_m_wattprint_config_prints_the_table() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "wattprint.settings.config"], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == describe_keys()
