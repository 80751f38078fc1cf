"""Configuration on the command line: ``wattprint config``, typos in files and variables, and ``doctor``'s findings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wattprint.cli.main import main


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_rapl: str) -> Path:
    """A project directory as the working directory, with its own store and no RAPL."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WATTPRINT_POWERCAP_ROOT", no_rapl)
    monkeypatch.setenv("WATTPRINT_GPUS", "false")
    return tmp_path


def checks(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict]]:
    code = main(["doctor", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def test_doctor_reports_a_typo_in_the_project_file_instead_of_stopping(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "wattprint.toml").write_text('intervl_s = 2\nlocation = "FR"\n')
    code, found = checks(capsys)
    assert code == 1
    config = [c for c in found if c["area"] == "config"]
    assert config and config[0]["status"] == "error"
    assert "intervl_s" in config[0]["summary"] and "did you mean 'interval_s'" in config[0]["summary"]
    assert str(project / "wattprint.toml") in config[0]["summary"]
    assert {"cpu", "rapl", "memory", "store"} <= {c["area"] for c in found}  # the other checks still ran
    # every other command still stops, naming the file, the key and the likely fix
    assert main(["runs"]) == 1
    err = capsys.readouterr().err
    assert "wattprint.toml" in err and "'intervl_s'" in err and "did you mean 'interval_s'" in err


def test_an_unknown_wattprint_variable_warns_with_a_suggestion(
        project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("WATTPRINT_INTERVL_S", "2")
    from wattprint.settings.config import load_config, unknown_variables

    with caplog.at_level("WARNING", logger="wattprint"):
        load_config()
        load_config()
    warned = [r.getMessage() for r in caplog.records if "WATTPRINT_INTERVL_S" in r.getMessage()]
    assert len(warned) == 1 and "did you mean WATTPRINT_INTERVAL_S?" in warned[0]
    assert unknown_variables({"WATTPRINT_CONFIG": "x", "WATTPRINT_STORE": "off", "WATTPRINT_TEST_PG_BIN": "y"}) == []
    code, found = checks(capsys)
    assert any(c["area"] == "config" and c["status"] == "warn" and "WATTPRINT_INTERVL_S" in c["summary"]
               for c in found)


def test_doctor_says_a_virtual_machine_has_no_rapl(tmp_path: Path, no_rapl: str) -> None:
    from wattprint.report.diagnostics import diagnose

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel Xeon\n"
                       "flags\t\t: fpu sse2 hypervisor\n")
    dmi = tmp_path / "dmi"
    dmi.mkdir()
    (dmi / "sys_vendor").write_text("QEMU\n")
    rapl = next(c for c in diagnose(powercap_root=no_rapl, cpuinfo_path=str(cpuinfo), dmi_root=str(dmi),
                                    store="off") if c.area == "rapl")
    assert "virtual machine" in rapl.summary and "QEMU" in rapl.summary
    assert "docker" not in (rapl.fix or "").lower()
    bare = tmp_path / "bare"
    bare.write_text("processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel Xeon\nflags\t\t: fpu sse2\n")
    rapl = next(c for c in diagnose(powercap_root=no_rapl, cpuinfo_path=str(bare), dmi_root=str(tmp_path / "none"),
                                    store="off") if c.area == "rapl")
    assert "virtual machine" not in rapl.summary


def test_doctor_checks_the_location(project: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    location = next(c for c in checks(capsys)[1] if c["area"] == "location")
    assert location["status"] == "warn" and "60" in location["summary"] and "WATTPRINT_LOCATION" in location["fix"]
    monkeypatch.setenv("WATTPRINT_LOCATION", "FR")
    location = next(c for c in checks(capsys)[1] if c["area"] == "location")
    assert location["status"] == "ok" and "FR" in location["summary"] and "WATTPRINT_LOCATION" in location["summary"]
    monkeypatch.setenv("WATTPRINT_LOCATION", "Atlantis")
    location = next(c for c in checks(capsys)[1] if c["area"] == "location")
    assert location["status"] == "error" and "Atlantis" in location["summary"]


def test_config_shows_each_value_and_where_it_came_from(
        project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "wattprint.toml").write_text('location = "FR"\ninterval_s = 2\n')
    monkeypatch.setenv("WATTPRINT_INTERVAL_S", "0.5")
    monkeypatch.setenv("WATTPRINT_ELECTRICITYMAPS_TOKEN", "s3cret")
    assert main(["config", "--json", "--store", "off"]) == 0
    out = capsys.readouterr().out
    assert "s3cret" not in out
    rows = {row["key"]: row for row in json.loads(out)}
    assert (rows["location"]["value"], rows["location"]["origin"]) == ("FR", "project file")
    assert rows["location"]["source"] == str(project / "wattprint.toml")
    assert (rows["interval_s"]["value"], rows["interval_s"]["origin"]) == (0.5, "environment")
    assert (rows["store"]["value"], rows["store"]["origin"]) == ("off", "argument")
    assert rows["attribution"]["origin"] == "default"
    assert main(["config", "--changed"]) == 0
    text = capsys.readouterr().out
    assert "environment variable WATTPRINT_INTERVAL_S" in text and "attribution" not in text
    assert f"project file: {project / 'wattprint.toml'}" in text
    (project / "wattprint.toml").write_text('locaton = "FR"\n')
    assert main(["config"]) == 1  # a problem: shown, with what could be read
    captured = capsys.readouterr()
    assert "did you mean 'location'" in captured.err and "attribution" in captured.out
