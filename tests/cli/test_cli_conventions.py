"""The conventions every command follows: options not given leave their setting to the configuration; one
exit-status convention (2 usage, 1 failure, the command's own for ``run``); one meaning per option name;
``--json`` wherever a command prints data."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from wattprint.cli.main import build_parser, main

WATTPRINT = str(Path(sys.executable).with_name("wattprint"))


def wattprint(*args: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([WATTPRINT, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def run_json(*options: str, env: dict[str, str], cwd: Path) -> dict:
    completed = wattprint("run", "--json", *options, "--", sys.executable, "-c", "pass", env=env, cwd=cwd)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


# -- options not given leave their setting to the configuration ---------------------------------------------------


def test_run_takes_attribution_from_the_environment_and_the_project_file(env: dict[str, str], tmp_path: Path) -> None:
    here = tmp_path / "project"
    here.mkdir()
    assert run_json(env=env, cwd=here)["attribution"] == "process"  # nothing configured: the command's tree
    assert run_json(env={**env, "WATTPRINT_ATTRIBUTION": "machine"}, cwd=here)["attribution"] == "machine"
    (here / "wattprint.toml").write_text('attribution = "machine"\n')
    assert run_json(env=env, cwd=here)["attribution"] == "machine"
    assert run_json("--attribution", "process", env=env, cwd=here)["attribution"] == "process"  # the option wins
    assert run_json("--attribution", "process", env={**env, "WATTPRINT_ATTRIBUTION": "machine"},
                    cwd=here)["attribution"] == "process"


def test_run_takes_the_project_and_location_from_the_configuration(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "wattprint.toml").write_text('project = "from-file"\nlocation = "FR"\n')
    data = run_json(env=env, cwd=tmp_path)
    assert (data["project"], data["intensity"]["zone"]) == ("from-file", "FR")
    data = run_json(env={**env, "WATTPRINT_PROJECT": "from-env"}, cwd=tmp_path)
    assert data["project"] == "from-env"
    data = run_json("--project", "given", "--location", "DE", env={**env, "WATTPRINT_PROJECT": "from-env"},
                    cwd=tmp_path)
    assert (data["project"], data["intensity"]["zone"]) == ("given", "DE")


def test_monitor_takes_its_settings_from_the_configuration(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "wattprint.toml").write_text('project = "lab"\nlocation = "FR"\n')
    completed = wattprint("monitor", "--duration", "0.5", "--json", env=env, cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    data = json.loads(completed.stdout)
    assert (data["project"], data["intensity"]["zone"], data["attribution"]) == ("lab", "FR", "machine")
    completed = wattprint("monitor", "--duration", "0.5", "--json", "--project", "given", "--location", "DE",
                          env=env, cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    data = json.loads(completed.stdout)
    assert (data["project"], data["intensity"]["zone"]) == ("given", "DE")


def test_no_option_default_shadows_a_setting() -> None:
    """An option named like a setting defaults to None ("not given"), so the configuration decides."""
    from wattprint.settings.config import KEYS

    settings = {key.name for key in KEYS}
    parser, modules = build_parser()
    for name, (_, sub) in modules.items():
        for action in sub._actions:  # noqa: SLF001 - argparse has no public list of a parser's options
            if action.dest in settings:
                assert action.default in (None, argparse_suppress(), []), (name, action.dest, action.default)


def argparse_suppress() -> str:
    import argparse

    return argparse.SUPPRESS


# -- exit status ----------------------------------------------------------------------------------------------------

USAGE_ERRORS = [
    (("run", "--interval", "fast", "--", "true"), "--interval"),
    (("run", "--attribution", "everything", "--", "true"), "--attribution"),
    (("run", "--json"), "a command after --"),
    (("run", "--when-green", "--", "true"), "--deadline"),
    (("monitor", "--duration", "long"), "--duration"),
    (("runs", "--limit", "many"), "--limit"),
    (("show",), "run"),
    (("export", "--format", "xml"), "--format"),
    (("regions", "--limit", "all"), "--limit"),
    (("doctor", "--verbose"), "--verbose"),
    (("config", "--changd"), "--changed"),
    (("estimate", "--hours", "long"), "--hours"),
    (("compare-regions", "--energy-kwh", "much"), "--energy-kwh"),
    (("report", "last", "--format", "pdf"), "--format"),
    (("import", "greentracker", "x.csv"), "tool"),
    (("plan", "--duration", "1h", "--power-w", "high"), "--power-w"),
    (("plan", "--duration", "1h", "--intensity-provider", "nowhere"), "--intensity-provider"),
    (("plan",), "--duration"),
    (("push", "--server"), "--server"),
    (("server", "--port", "eighty"), "--port"),
    (("bench-inference", "--requests", "many"), "--requests"),
    (("agent", "--port", "eighty"), "--port"),
]


def test_every_command_is_checked_for_usage_errors() -> None:
    assert {args[0] for args, _ in USAGE_ERRORS} == set(build_parser()[1])


@pytest.mark.parametrize(("args", "option"), USAGE_ERRORS, ids=[" ".join(a) for a, _ in USAGE_ERRORS])
def test_a_usage_error_exits_2_naming_the_option(args: tuple[str, ...], option: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"usage: wattprint {args[0]}" in err and f"wattprint {args[0]}: error: " in err
    assert option in err.split(": error: ", 1)[1], err


FAILURES = [
    (("show", "ffffffff"), "ffffffff"),
    (("report", "ffffffff"), "ffffffff"),
    (("estimate", "--from-run", "ffffffff"), "ffffffff"),
    (("runs", "--project", "nobody"), "nobody"),
    (("monitor", "--duration", "0"), "--duration"),
    (("estimate", "--gpu", "no such gpu", "--hours", "1"), "--power-w"),
    (("estimate", "--power-w", "100", "--hours", "1", "--location", "Atlantis"), "wattprint regions"),
    (("regions", "Atlantis"), "'Atlantis'"),
    (("plan", "--duration", "soon", "--intensity-provider", "uk"), "--duration"),
    (("plan", "--duration", "0", "--intensity-provider", "uk"), "--duration"),
    (("plan", "--duration", "1h", "--intensity-provider", "uk", "--zone", "GB", "--location", "GB"), "--zone"),
    (("plan", "--duration", "1h", "--intensity-provider", "uk", "--zone", "GB", "--power-w", "-5"), "--power-w"),
    (("compare-regions", "--energy-kwh", "1", "--intensity", "100"), "--intensity"),
    (("export", "-o", "runs.xlsx"), ".csv"),
    (("import", "codecarbon", "no-such-emissions.csv"), "no-such-emissions.csv"),
]


@pytest.mark.parametrize(("args", "said"), FAILURES, ids=[" ".join(a) for a, _ in FAILURES])
def test_a_failure_exits_1_with_a_message(args: tuple[str, ...], said: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WATTPRINT_STORE", str(tmp_path / "runs.sqlite"))
    monkeypatch.setenv("WATTPRINT_INTENSITY_URL", "http://127.0.0.1:9")  # nothing is asked of it: checks come first
    assert main(list(args)) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "usage:" not in err
    assert said in err and "wattprint: error: " in err, err


def test_a_config_error_exits_1_naming_its_source(env: dict[str, str]) -> None:
    completed = wattprint("runs", env={**env, "WATTPRINT_ATTRIBUTION": "everything"})
    assert completed.returncode == 1
    assert "wattprint: error: " in completed.stderr and "WATTPRINT_ATTRIBUTION" in completed.stderr


def test_a_file_that_cannot_be_written_is_a_failure_not_a_traceback(env: dict[str, str], tmp_path: Path) -> None:
    completed = wattprint("export", "-o", str(tmp_path / "missing" / "runs.csv"), env=env)
    assert completed.returncode == 1 and "Traceback" not in completed.stderr
    assert f"wattprint: error: {tmp_path / 'missing' / 'runs.csv'}: No such file or directory" in completed.stderr


def test_run_exits_with_the_commands_status(env: dict[str, str]) -> None:
    assert wattprint("run", "--", sys.executable, "-c", "raise SystemExit(5)", env=env).returncode == 5
    assert wattprint("run", "--", sys.executable, "-c", "import os; os.kill(os.getpid(), 15)",
                     env=env).returncode == 128 + signal.SIGTERM


def test_run_says_when_the_command_cannot_be_executed(env: dict[str, str], tmp_path: Path) -> None:
    script = tmp_path / "no-interpreter"
    script.write_text("echo hello\n")  # no #! line: the kernel cannot execute it
    script.chmod(0o755)
    completed = wattprint("run", "--", str(script), env=env)
    assert completed.returncode == 126
    assert f"wattprint: error: cannot run {str(script)!r}: Exec format error" in completed.stderr
    script.chmod(0o644)
    assert wattprint("run", "--", str(script), env=env).returncode == 126


def test_ctrl_c_ends_a_command_quietly_with_130(env: dict[str, str]) -> None:
    """Interrupted while it waits on a provider that never answers: no traceback, 128 + SIGINT."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        url = f"http://127.0.0.1:{server.getsockname()[1]}"
        process = subprocess.Popen(
            [WATTPRINT, "plan", "--duration", "1h", "--intensity-provider", "uk", "--zone", "GB"],
            env={**env, "WATTPRINT_INTENSITY_URL": url, "WATTPRINT_INTENSITY_TIMEOUT_S": "60",
                 "WATTPRINT_INTENSITY_DISK_CACHE": "false"},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            # as a command started at a terminal has it: a runner that started the suite in the background
            # (nohup, CI) leaves SIGINT ignored, which the child would inherit and rightly keep
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        server.settimeout(60)
        connection, _ = server.accept()  # the command is now waiting for an answer
        with connection:
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err


def test_the_convention_is_in_the_help() -> None:
    text = build_parser()[0].format_help()
    assert "exit status:" in text
    for line in ("  0    success", "  1    failure", "  2    usage error", "  130  interrupted"):
        assert line in text


# -- one meaning per option name --------------------------------------------------------------------------------------


def test_a_live_intensity_provider_is_given_with_intensity_provider(capsys: pytest.CaptureFixture[str]) -> None:
    parser, modules = build_parser()
    for command in ("run", "plan"):
        text = modules[command][1].format_help()
        assert "--intensity-provider PROVIDER" in text and "--provider" not in text, command
    assert "--provider P" in modules["compare-regions"][1].format_help()  # cloud providers: gcp, aws, ...
    offered = {s for (_, sub) in modules.values() for a in sub._actions for s in a.option_strings  # noqa: SLF001
               if a.help != argparse_suppress()}
    assert "--intensity-provider" in offered


def test_provider_still_works_in_plan_and_run_and_says_it_is_deprecated(env: dict[str, str]) -> None:
    completed = wattprint("plan", "--duration", "1h", "--provider", "uk", "--zone", "GB", "--location", "GB",
                          env=env)
    assert completed.returncode == 1  # the value was taken: the failure is the later check of --zone and --location
    assert ("wattprint: warning: --provider is deprecated in 'wattprint plan': use --intensity-provider"
            in completed.stderr)
    assert "give --location or --zone, not both" in completed.stderr
    refused = wattprint("plan", "--duration", "1h", "--provider", "nowhere", env=env)
    assert refused.returncode == 2 and "invalid choice: 'nowhere'" in refused.stderr
    run = wattprint("run", "--provider", "uk", "--when-green", "--", "true", env=env)
    assert run.returncode == 2 and "--provider is deprecated in 'wattprint run'" in run.stderr
    compare = wattprint("compare-regions", "--energy-kwh", "1", "--provider", "gcp", "--json", env=env)
    assert compare.returncode == 0 and "deprecated" not in compare.stderr


def test_plan_names_power_and_energy_as_estimate_and_compare_regions_do(capsys: pytest.CaptureFixture[str]) -> None:
    _, modules = build_parser()
    for command, option in (("estimate", "--power-w W"), ("compare-regions", "--energy-kwh E")):
        assert option in modules[command][1].format_help()
    text = modules["plan"][1].format_help()
    assert "--power-w W, --power W" in text and "--energy-kwh KWH, --energy KWH" in text
    with pytest.raises(SystemExit) as exit_:
        main(["plan", "--duration", "1h", "--power", "100", "--energy-kwh", "1"])
    assert exit_.value.code == 2 and "not allowed with argument --power-w" in capsys.readouterr().err


def test_hints_name_the_new_option_not_the_deprecated_one(capsys: pytest.CaptureFixture[str]) -> None:
    from wattprint.cli.main import option_names

    _, modules = build_parser()
    for command in ("run", "plan"):
        module, sub = modules[command]
        assert option_names(module, sub)["intensity_provider"] == "--intensity-provider"


# -- --json -----------------------------------------------------------------------------------------------------------

DOCUMENTS = {"export", "report"}
"""Commands whose output is a file in a format of its own (--format json / csv, md / html / tex), not data."""


def test_every_command_that_prints_data_has_json() -> None:
    _, modules = build_parser()
    for name, (_, sub) in modules.items():
        options = {s for action in sub._actions for s in action.option_strings}  # noqa: SLF001
        assert ("--json" in options) != (name in DOCUMENTS), name


# -- text on a terminal -----------------------------------------------------------------------------------------------


def test_the_live_status_line_on_a_terminal(env: dict[str, str]) -> None:
    import os

    controller, terminal = os.openpty()
    try:
        completed = subprocess.run([WATTPRINT, "monitor", "--duration", "1.5"], env=env, stdout=subprocess.PIPE,
                                   stderr=terminal, timeout=120)
        os.close(terminal)
        terminal = -1
        seen = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal's other end is closed: all read
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if terminal >= 0:
            os.close(terminal)
        os.close(controller)
    assert completed.returncode == 0
    text = seen.decode()
    assert "\r\x1b[Kwattprint monitor  " in text and " W  " in text and "(Ctrl-C to stop)" in text
    assert "monitoring this machine" not in text  # the status line says it instead
