"""The tracker's constructor: settings, run options and hardware, every keyword of before, clear errors."""

from __future__ import annotations

import inspect
import os

import pytest

import wattprint
from tests.fakes.fake_nvml import FakeGpu, FakeNvml
from wattprint.core.errors import ConfigError
from wattprint.run import arguments
from wattprint.run.options import NOT_PER_RUN, Hardware, RunOptions
from wattprint.settings.config import KEYS
from wattprint.settings.typed import load_settings

KEYWORDS_BEFORE = (
    "attribution", "interval_s", "pid", "gpus", "cpu_tdp_w", "powercap_root", "rapl_domains", "nvml", "amdsmi",
    "store", "flush_interval_s", "location", "pue", "cloud_metadata", "ip_geolocation", "total_epochs",
    "total_steps", "predict_after", "prediction_level", "predict_every_steps", "budget_kwh", "budget_g",
    "budget_policy", "budget_basis", "hyperparameters", "intensity_provider", "intensity_zone",
)
"""The keyword-only parameters ``Tracker.__init__`` listed before it took ``**overrides``."""


def test_the_typed_keywords_are_the_registry_the_run_options_and_the_hardware() -> None:
    setting_keys = set(arguments.SettingArguments.__optional_keys__)
    assert setting_keys == {key.name for key in KEYS} - NOT_PER_RUN - {"project"}
    tracker_keys = set(arguments.TrackerArguments.__optional_keys__)
    own = {f.name for f in _fields(RunOptions)} | {f.name for f in _fields(Hardware)}
    assert tracker_keys == setting_keys | own
    assert set(arguments.TrackArguments.__optional_keys__) == tracker_keys | {"project", "name", "settings",
                                                                                  "hardware"}
    assert set(KEYWORDS_BEFORE) <= tracker_keys


def _fields(cls: type) -> tuple:
    import dataclasses

    return dataclasses.fields(cls)


def test_the_signature_names_the_groups() -> None:
    parameters = inspect.signature(wattprint.Tracker).parameters
    assert list(parameters) == ["project", "name", "settings", "hardware", "overrides"]
    assert parameters["overrides"].annotation == "Unpack[TrackerArguments]"


@pytest.mark.parametrize(
    ("keyword", "message"),
    [
        ("budget_kw", "Tracker() got an unknown keyword argument 'budget_kw' (did you mean 'budget_kwh'?)"),
        ("total_epoch", "(did you mean 'total_epochs'?)"),
        ("nvm", "(did you mean 'nvml'?)"),
        ("zzz", "unknown keyword argument 'zzz'; it takes the settings keys (https://"),
        ("zzz", "configuration.md) and pid, total_epochs, total_steps, predict_every_steps, hyperparameters, tags, "
                "group, nvml"),
        ("log_level", "log_level applies to the whole process, not one tracker: set log_level in wattprint.toml"),
    ],
)
def test_an_unknown_keyword_is_a_clear_error_with_the_close_match(keyword: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        wattprint.Tracker(**{keyword: 1})
    assert message in str(caught.value)


def test_every_keyword_of_before_is_still_taken(no_rapl: str) -> None:
    given: dict[str, object] = {
        "attribution": "machine", "interval_s": 0.5, "gpus": True, "cpu_tdp_w": 65.0, "powercap_root": no_rapl,
        "rapl_domains": ["package"], "nvml": FakeNvml([FakeGpu()]), "amdsmi": None, "store": "off",
        "flush_interval_s": 5.0, "location": "FR", "pue": 1.2, "cloud_metadata": False, "ip_geolocation": False,
        "total_epochs": 3, "total_steps": 30, "predict_after": 2, "prediction_level": 0.8, "predict_every_steps": 5,
        "budget_kwh": 1.0, "budget_g": 100.0, "budget_policy": "warn", "budget_basis": "central",
        "hyperparameters": {"lr": 0.1}, "intensity_provider": "none", "intensity_zone": None, "pid": None,
    }
    assert set(given) == set(KEYWORDS_BEFORE)
    run = wattprint.Tracker("p", "n", **given)
    settings = run.settings
    assert (settings.interval_s, settings.cpu_tdp_w, settings.rapl_domains, settings.pue) == (0.5, 65.0, ("package",),
                                                                                              1.2)
    assert (settings.predict_after, settings.prediction_level, settings.budget_basis) == (2, 0.8, "central")
    assert (run.total_epochs, run.total_steps, run.hyperparameters) == (3, 30, {"lr": 0.1})
    assert run.options == RunOptions(total_epochs=3, total_steps=30, predict_every_steps=5,
                                     hyperparameters={"lr": 0.1})
    assert run.hardware.nvml is given["nvml"] and run.project == "p" and run.name == "n"
    assert run.budget.energy_kwh == 1.0 and run.budget.emissions_g == 100.0
    assert settings.source("pue") == "argument" and run.config.setting("pue").source == "argument"


def test_hardware_is_given_as_a_group_or_as_keywords_but_not_both(model_only: dict[str, object]) -> None:
    nvml = FakeNvml([FakeGpu(power_w=100.0)])
    options = {**model_only, "gpus": True, "store": "off"}
    with wattprint.Tracker(hardware=Hardware(nvml=nvml), **options) as grouped:
        pass
    with wattprint.Tracker(nvml=nvml, **options) as keyword:
        pass
    assert grouped.hardware == keyword.hardware == Hardware(nvml=nvml)
    assert grouped.result is not None and "gpu" in grouped.result.components
    with pytest.raises(ConfigError, match="nvml given both in hardware= and as a keyword"):
        wattprint.Tracker(hardware=Hardware(nvml=nvml), nvml=nvml)
    with pytest.raises(ConfigError, match="nvml must be the pynvml"):
        Hardware(nvml=object())
    with pytest.raises(ConfigError, match="hardware must be a wattprint.run.options.Hardware"):
        wattprint.Tracker(hardware={"nvml": nvml})


def test_given_settings_are_used_as_they_are_and_keywords_override_them(model_only: dict[str, object]) -> None:
    settings = load_settings({"pue": 1.3, "store": "off", **model_only}, environ={}, user_config=os.devnull)
    os.environ["WATTPRINT_BUDGET_KWH"] = "2"  # the isolated_settings fixture removes it after the test
    run = wattprint.Tracker("p", settings=settings, pue=1.5)
    assert run.settings.pue == 1.5 and run.settings.source("pue") == "argument"
    assert run.settings.budget_kwh is None  # the given settings were resolved already: the environment is not read
    assert run.settings.store == "off" and run.project == "p"
    assert wattprint.Tracker(settings=settings).settings == settings
    with pytest.raises(ConfigError, match="settings must be a wattprint.settings.typed.Settings"):
        wattprint.Tracker(settings={"pue": 1.2})
    with pytest.raises(ConfigError, match="pue = 7 from argument"):
        wattprint.Tracker(settings=settings, pue=7)


def test_clone_and_the_decorator_keep_every_argument(model_only: dict[str, object]) -> None:
    settings = load_settings({"store": "off", **model_only}, environ={}, user_config=os.devnull)
    run = wattprint.Tracker("p", settings=settings, total_epochs=4, location="FR")
    copy = run.clone()
    assert copy is not run and copy.settings == run.settings and copy.total_epochs == 4 and copy.project == "p"

    @run
    def work() -> int:
        return 1

    assert work() == 1
    assert work.tracker.name == work.__qualname__ and work.tracker.settings == run.settings
    assert work.result.name.endswith(".work")


def test_track_takes_the_same_keywords(model_only: dict[str, object]) -> None:
    with wattprint.track("p", name="n", store="off", settings=None, hardware=None, **model_only) as run:
        pass
    assert run.result is not None and run.result.project == "p"
    with pytest.raises(ConfigError, match="did you mean 'location'"):
        wattprint.track(locaton="FR")
