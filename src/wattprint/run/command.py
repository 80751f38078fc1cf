"""Measuring a command: what ``wattprint run -- CMD`` does, as a library function.

The command runs as a child process with the terminal and streams of the caller; its process tree is measured
(``attribution="process"`` by default), signals sent to us are passed on to it, and its exit code is returned.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from wattprint.core.results import RunResult
from wattprint.run.tracker import Tracker, new_run_id
from wattprint.settings.config import PARENT_RUN_VARIABLE, load_config

FORWARDED = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH", "SIGCONT")


@dataclass
class CommandRun:
    """The outcome of a measured command."""

    exit_code: int
    """The command's exit code; 128 + N when it was ended by signal N, as shells report it."""
    result: RunResult
    tracker: Tracker
    signals: list[int] = field(default_factory=list)
    """Signals received and passed on to the command."""


def run_command(
    argv: Sequence[str],
    *,
    on_status: Callable[[RunResult], None] | None = None,
    status_interval_s: float = 1.0,
    green_wait: Any = None,
    **tracker_kwargs: Any,
) -> CommandRun:
    """Run ``argv``, measuring its process tree, and return its exit code and the run's result.

    ``on_status`` is called about every ``status_interval_s`` with a live snapshot (for a status line).
    Raises FileNotFoundError / PermissionError when the command cannot be started. ``green_wait`` (a
    ``wattprint.plan.schedule.GreenWait``) is how long the start waited for a green window, stored with the run.
    """
    if not argv:
        raise ValueError("no command given: put it after --, e.g. wattprint run -- python train.py")
    if tracker_kwargs.get("attribution") is None:  # not given: the settings' choice, else the command's own tree
        setting = load_config({}).setting("attribution")
        tracker_kwargs["attribution"] = setting.value if setting.source != "default" else "process"
    # A tracker inside the command measures as this run does, and records it as its parent (docs/measurement.md).
    run_id = new_run_id()
    child_env = {**os.environ, PARENT_RUN_VARIABLE: run_id, "WATTPRINT_ATTRIBUTION": tracker_kwargs["attribution"]}
    # Probe the sensors (and import what measuring needs) before the command starts, so that the tracker that
    # needs the command's pid starts within milliseconds of it.
    warm_kwargs = {k: v for k, v in tracker_kwargs.items() if k not in ("attribution", "pid", "project", "name")}

    provider = load_config({"intensity_provider": tracker_kwargs.get("intensity_provider")}).get("intensity_provider")
    if provider != "none":
        Tracker(**{**warm_kwargs, "store": "off"})  # a bad live-intensity setting fails before the command starts
    warm = Tracker(**{**warm_kwargs, "attribution": "machine", "store": "off", "intensity_provider": "none"})
    warm.exported = False  # a probe, not a run: the exporters never see it
    warm.start()
    if tracker_kwargs["attribution"] == "process":
        import psutil  # noqa: F401 - imported now rather than after the command has started
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread:
        from wattprint.sinks.recorder import install_exit_hooks

        install_exit_hooks()  # first: the handlers put back at the end are then the ones that save runs at SIGTERM
    terminal = _terminal()
    # Without a terminal, the command gets a process group of its own: a signal sent to our group (a scheduler
    # ending a job) then reaches it once, passed on by us, not a second time directly.
    own_group = terminal is None and in_main_thread
    received: list[int] = []
    previous: dict[int, Any] = {}
    started: list[subprocess.Popen[bytes]] = []

    def forward(signum: int, frame: object) -> None:
        received.append(signum)
        # A Ctrl-C typed at the terminal reaches the whole foreground process group, the command included.
        if signum == signal.SIGINT and terminal == "foreground":
            return
        if started:  # else passed on as soon as the command has started
            _pass_on(started[0], signum, own_group)

    if in_main_thread:
        # Ours from before the command starts until it has exited and its run is saved: the tracker's SIGTERM
        # handler (stop and save the run as killed) must not cut the measurement short while the command shuts down.
        for name in FORWARDED:
            number = getattr(signal, name, None)
            if number is not None:
                previous[number] = signal.signal(number, forward)
    try:
        try:
            child = subprocess.Popen(list(argv), env=child_env, **_own_group_kwargs() if own_group else {})
        except BaseException:
            warm.stop()
            raise
        started.append(child)
        for signum in list(received):  # signals that came while the command was being started
            if not (signum == signal.SIGINT and terminal == "foreground"):
                _pass_on(child, signum, own_group)
        return _measure(child, argv, warm, received, on_status, status_interval_s, green_wait,
                        {**tracker_kwargs, "run_id": run_id})
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _pass_on(child: subprocess.Popen[bytes], signum: int, own_group: bool) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if own_group:
            os.killpg(child.pid, signum)  # the command and its own children, as a signal to a group would
        else:
            child.send_signal(signum)


def _terminal() -> str | None:
    """Whether this process has a controlling terminal: None, ``"foreground"`` or ``"background"``."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return None
    try:
        return "foreground" if os.tcgetpgrp(fd) == os.getpgrp() else "background"
    except OSError:
        return "background"
    finally:
        os.close(fd)


def _own_group_kwargs() -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        return {"process_group": 0}
    return {"preexec_fn": os.setpgrp}  # pragma: no cover - Python 3.10


def _measure(
    child: subprocess.Popen[bytes],
    argv: Sequence[str],
    warm: Tracker,
    received: list[int],
    on_status: Callable[[RunResult], None] | None,
    status_interval_s: float,
    green_wait: Any,
    tracker_kwargs: dict[str, Any],
) -> CommandRun:
    """Measure the started command until it exits, and stop its run with its exit code and status."""
    try:
        attribution = tracker_kwargs["attribution"]
        if attribution in ("process", "cgroup") and tracker_kwargs.get("pid") is None:
            tracker_kwargs["pid"] = child.pid
        run_id = tracker_kwargs.pop("run_id")
        tracker = Tracker(**tracker_kwargs)
        tracker.command = shlex.join(argv)
        tracker._next_run_id = run_id  # the id the command was told (WATTPRINT_PARENT_RUN)
        tracker.start()
        if green_wait is not None and tracker.live_intensity is not None:
            tracker.live_intensity.record_wait(green_wait.waited_s)
        warm.stop()
        stop_status = threading.Event()
        reporter = None
        if on_status is not None:
            def report() -> None:
                while not stop_status.wait(status_interval_s):
                    with contextlib.suppress(Exception):  # a status line must never break the run
                        on_status(tracker.snapshot())

            reporter = threading.Thread(target=report, name="wattprint-status", daemon=True)
            reporter.start()
        try:
            returncode = _wait_unreaped(child)
        finally:
            stop_status.set()
            if reporter is not None:
                reporter.join()
    except BaseException:
        warm.stop()
        if child.poll() is None:
            child.kill()
            child.wait()
        raise
    exit_code = 128 - returncode if returncode < 0 else returncode
    if returncode < 0 or (received and returncode >= 128):
        status = "killed"  # ended by a signal (or exited 128+N after handling one we passed on)
    else:
        status = "finished" if returncode == 0 else "failed"
    tracker.exit_code = exit_code
    # The command has exited but is not reaped yet: its CPU time (and its children's) is still readable, so the
    # last reading charges it in full. Reaping it first would hand that time to this process, outside the tree.
    try:
        result = tracker.stop(status)
    finally:
        child.wait()
    assert result is not None
    return CommandRun(exit_code=exit_code, result=result, tracker=tracker, signals=received)


def _wait_unreaped(child: subprocess.Popen[bytes]) -> int:
    """Wait for the command to exit and return its return code (negative: the signal that ended it), leaving it
    a zombie until the run has been read for the last time."""
    if hasattr(os, "waitid") and hasattr(os, "WNOWAIT"):
        try:
            info = os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
        except ChildProcessError:
            return child.wait()
        if info is not None:
            return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status
    return child.wait()



_INTERPRETERS = ("python", "pypy", "node", "deno", "bun", "ruby", "perl", "bash", "sh", "zsh", "rscript", "julia",
                 "torchrun", "deepspeed", "accelerate", "uv", "poetry", "pipenv", "conda", "srun", "mpirun")
_SUBCOMMANDS = ("run", "launch", "exec")


def default_run_name(argv: list[str]) -> str:
    """The name a measured command's run gets without ``--name``: the script, not the interpreter.

    ``python train.py`` -> ``train.py``; ``python -m pkg.train`` -> ``pkg.train``; ``torchrun --nproc-per-node 8
    train.py`` -> ``train.py``; ``uv run python train.py`` -> ``train.py``; ``./train.sh`` -> ``train.sh``.
    """
    words = [w for w in argv if w]
    if not words:
        return "command"
    launcher = words[0].rsplit("/", 1)[-1]
    index = 0
    while index < len(words):
        word = words[index]
        base = word.rsplit("/", 1)[-1]
        if word.startswith("-"):
            if word == "-m" and index + 1 < len(words):
                return words[index + 1]
            if word in ("-c", "-e"):
                return launcher
            index += 1
            # an option's value ("--nproc-per-node 8"), unless it is the script itself
            if "=" not in word and index < len(words) and not words[index].startswith("-") \
                    and not _looks_like_script(words[index]) \
                    and not words[index].casefold().startswith(_INTERPRETERS):
                index += 1
            continue
        if index and word in _SUBCOMMANDS:
            index += 1
            continue
        if base.casefold().startswith(_INTERPRETERS):
            launcher = base
            index += 1
            continue
        return base
    return launcher


def _looks_like_script(word: str) -> bool:
    import os

    return "." in word.rsplit("/", 1)[-1] or "/" in word or os.path.isfile(word)
