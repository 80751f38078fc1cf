"""The typed settings: one field per key of the registry, checked values, and each value's source kept."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from wattprint.core.errors import ConfigError
from wattprint.settings.config import KEYS, Secret, load_config
from wattprint.settings.typed import Settings, load_settings

KIND_TYPES = {"str": "str", "float": "float", "int": "int", "bool": "bool", "str-list": "tuple[str, ...]"}
SECRET_KEYS = {"electricitymaps_token", "watttime_password", "server_token", "otlp_headers"}


def test_the_fields_are_the_keys_of_the_registry_in_order_with_their_kinds_and_defaults() -> None:
    fields = dataclasses.fields(Settings)
    assert [f.name for f in fields] == [key.name for key in KEYS], "add the key's field to Settings (settings/typed.py)"
    for field, key in zip(fields, KEYS, strict=True):
        kind = "Secret" if key.name in SECRET_KEYS else KIND_TYPES[key.kind]
        expected = f"{kind} | None" if key.default is None else kind
        assert field.type == expected, key.name
        assert field.default == key.default, key.name


def test_the_secret_keys_are_those_whose_values_are_secrets() -> None:
    environ = {key.env_var: "x" for key in KEYS if key.kind == "str" and not key.choices and not key.check}
    environ.update({"WATTPRINT_ELECTRICITYMAPS_TOKEN": "t", "WATTPRINT_WATTTIME_PASSWORD": "p",
                    "WATTPRINT_SERVER_TOKEN": "s", "WATTPRINT_OTLP_HEADERS": "authorization=Bearer%20h"})
    config = load_config(environ=environ, user_config=os.devnull)
    assert {s.key for s in config.settings() if isinstance(s.value, Secret)} == SECRET_KEYS


def test_load_settings_types_every_value_and_keeps_its_source(tmp_path: Path) -> None:
    (tmp_path / "wattprint.toml").write_text('project = "mnist"\ninterval_s = 2\n')
    settings = load_settings({"pue": 1.2, "gpus": None}, cwd=str(tmp_path),
                             environ={"WATTPRINT_BUDGET_KWH": "0.5", "WATTPRINT_RAPL_DOMAINS": "psys"},
                             user_config=os.devnull)
    assert settings.project == "mnist" and settings.interval_s == 2.0 and isinstance(settings.interval_s, float)
    assert settings.pue == 1.2 and settings.budget_kwh == 0.5 and settings.rapl_domains == ("psys",)
    assert settings.gpus is True
    assert settings.source("pue") == "argument"
    assert settings.source("budget_kwh") == "environment variable WATTPRINT_BUDGET_KWH"
    assert settings.source("project") == str(tmp_path / "wattprint.toml")
    assert settings.source("gpus") == "default"
    assert settings.setting("pue").value == 1.2
    assert settings.config == load_config({"pue": 1.2}, cwd=str(tmp_path), user_config=os.devnull,
                                          environ={"WATTPRINT_BUDGET_KWH": "0.5", "WATTPRINT_RAPL_DOMAINS": "psys"})
    assert Settings.from_config(settings.config) == settings


def test_settings_built_directly_are_checked_and_converted_as_arguments() -> None:
    settings = Settings(attribution="Process", interval_s=2, rapl_domains=["psys", "psys"], electricitymaps_token="t")
    assert settings.attribution == "process" and settings.interval_s == 2.0 and settings.rapl_domains == ("psys",)
    assert settings.electricitymaps_token == Secret("t") and "'t'" not in repr(settings)
    assert settings.source("attribution") == "argument" and settings.source("pue") == "default"
    assert settings.config.setting("interval_s").source == "argument"
    with pytest.raises(ConfigError, match="2 configuration problems") as caught:
        Settings(interval_s="x", pue=9)
    assert "interval_s = 'x' from argument: must be a number" in str(caught.value)
    assert "pue = 9 from argument: must be a number between 1 and 3" in str(caught.value)
    with pytest.raises(ConfigError, match="budget_policy = 'never' from argument"):
        dataclasses.replace(settings, budget_policy="never")
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.pue = 1.1


def test_with_arguments_replaces_only_the_given_keys() -> None:
    base = load_settings(environ={"WATTPRINT_PUE": "1.3", "WATTPRINT_GPUS": "0"}, user_config=os.devnull)
    changed = base.with_arguments({"gpus": True, "pue": None, "location": "FR"})
    assert changed.gpus is True and changed.source("gpus") == "argument"
    assert changed.pue == 1.3 and changed.source("pue") == "environment variable WATTPRINT_PUE"
    assert changed.location == "FR"
    assert base.with_arguments({"pue": None}) is base
    with pytest.raises(ConfigError, match=r"unknown key 'gpu' in argument \(did you mean 'gpus'\?\)"):
        base.with_arguments({"gpu": True})
    with pytest.raises(ConfigError, match="interval_s = -1 from argument"):
        base.with_arguments({"interval_s": -1})


def test_an_unknown_key_asked_of_the_settings_names_the_close_one() -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'pu' .*did you mean 'pue'"):
        Settings().source("pu")


def test_settings_are_values() -> None:
    assert Settings(pue=1.2) == Settings(pue=1.2) != Settings(pue=1.3)
    assert len({Settings(pue=1.2), Settings(pue=1.2)}) == 1
    assert repr(Settings(pue=1.2, gpus=False)) == "Settings(gpus=False, pue=1.2)"
