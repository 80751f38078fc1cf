"""Every argument of Tracker/track is checked up front, with the argument named and the fix said."""

from __future__ import annotations

from pathlib import Path

import pytest

import wattprint
from wattprint.core.errors import MAX_NAME_CHARS, ConfigError


@pytest.mark.parametrize("bad", [123, 1.5, True, {"a": 1}, {"x"}, b"/sys"])
def test_powercap_root_of_the_wrong_type_is_a_config_error_naming_it(bad: object) -> None:
    with pytest.raises(ConfigError, match=r"powercap_root .*must be a path") as caught:
        wattprint.Tracker(powercap_root=bad)
    assert "str or pathlib.Path" in str(caught.value)


def test_powercap_root_takes_a_path_or_a_list_of_paths(tmp_path: Path) -> None:
    tracker = wattprint.Tracker(powercap_root=[tmp_path, str(tmp_path / "b")], gpus=False)
    assert tracker._config.powercap_root == f"{tmp_path}:{tmp_path / 'b'}"
    assert wattprint.Tracker(powercap_root=tmp_path, gpus=False)._config.powercap_root == str(tmp_path)
    with pytest.raises(ConfigError, match=r"powercap_root\[1\]"):
        wattprint.Tracker(powercap_root=[str(tmp_path), 7])
    with pytest.raises(ConfigError, match="NUL"):
        wattprint.Tracker(powercap_root="/sys\x00/x")


@pytest.mark.parametrize("argument", ["nvml", "amdsmi"])
@pytest.mark.parametrize("bad", [123, {"a": 1}, "pynvml"])
def test_a_library_argument_must_offer_the_library_api(argument: str, bad: object) -> None:
    with pytest.raises(ConfigError, match=f"{argument} must be the .* module") as caught:
        wattprint.Tracker(**{argument: bad})
    assert "leave it out" in str(caught.value)


def test_the_fake_nvml_is_still_accepted() -> None:
    from tests.fakes.fake_nvml import FakeNvml

    wattprint.Tracker(nvml=FakeNvml([]))


@pytest.mark.parametrize("argument", ["project", "name", "location", "intensity_zone"])
def test_names_have_a_length_limit(argument: str) -> None:
    with pytest.raises(ConfigError, match=f"{argument} is 10,000,000 characters long; at most 200") as caught:
        wattprint.Tracker(**{argument: "x" * 10_000_000})
    assert len(str(caught.value)) < 300  # the message does not repeat the value
    wattprint.Tracker(**{argument: "FR" if argument in ("location", "intensity_zone") else "x" * MAX_NAME_CHARS})


@pytest.mark.parametrize("argument", ["project", "name", "intensity_zone"])
@pytest.mark.parametrize("bad", ["a\nb", "a\x00b", "tab\there", "esc\x1b[31m"])
def test_names_refuse_control_characters(argument: str, bad: str) -> None:
    with pytest.raises(ConfigError, match=f"{argument} contains the control character"):
        wattprint.Tracker(**{argument: bad})


def test_a_project_from_the_environment_is_checked_and_its_source_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATTPRINT_PROJECT", "p" * 1000)
    with pytest.raises(ConfigError, match="project .*WATTPRINT_PROJECT.* 1,000 characters"):
        wattprint.Tracker()


def test_task_names_are_checked_like_other_names(model_only: dict[str, object]) -> None:
    with wattprint.track(**model_only) as run:
        with pytest.raises(ConfigError, match="task name is 1,000 characters long"):
            run.task("t" * 1000)
        with pytest.raises(ConfigError, match="task name contains the control character"):
            run.task("a\nb")
        with run.task("fine"):
            pass


def test_store_paths_with_nul_are_refused() -> None:
    with pytest.raises(ConfigError, match="store contains a NUL"):
        wattprint.Tracker(store="/tmp/a\x00b.db")


def test_hyperparameter_names_are_strings_of_sane_length() -> None:
    with pytest.raises(ConfigError, match="hyperparameters"):
        wattprint.Tracker(hyperparameters={1: "a"})
    with pytest.raises(ConfigError, match="hyperparameters"):
        wattprint.Tracker(hyperparameters={"k" * 1000: "a"})
    wattprint.Tracker(hyperparameters={"lr": 0.1})


def test_track_checks_its_arguments_like_tracker() -> None:
    with pytest.raises(ConfigError, match="powercap_root"):
        wattprint.track(powercap_root=123)
    with pytest.raises(ConfigError, match="project"):
        wattprint.track("x" * 500)
