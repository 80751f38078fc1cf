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

from wattprint.results import RunResult
from wattprint.tracker import Tracker

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
    ``wattprint.schedule.GreenWait``) is how long the start waited for a green window, stored with the run.
    """
    if not argv:
        raise ValueError("no command given: put it after --, e.g. wattprint run -- python train.py")
    tracker_kwargs.setdefault("attribution", "process")
    # Probe the sensors (and import what measuring needs) before the command starts, so that the tracker that
    # needs the command's pid starts within milliseconds of it.
    warm_kwargs = {k: v for k, v in tracker_kwargs.items() if k not in ("attribution", "pid", "project", "name")}
    from wattprint.config import load_config

    provider = load_config({"intensity_provider": tracker_kwargs.get("intensity_provider")}).get("intensity_provider")
    if provider != "none":
        Tracker(**{**warm_kwargs, "store": "off"})  # a bad live-intensity setting fails before the command starts
    warm = Tracker(**{**warm_kwargs, "attribution": "machine", "store": "off", "intensity_provider": "none"}).start()
    if tracker_kwargs["attribution"] == "process":
        import psutil  # noqa: F401 - imported now rather than after the command has started
    try:
        child = subprocess.Popen(list(argv))
    except BaseException:
        warm.stop()
        raise
    received: list[int] = []
    previous: dict[int, Any] = {}
    interactive = sys.stdin is not None and sys.stdin.isatty()

    def forward(signum: int, frame: object) -> None:
        received.append(signum)
        # A Ctrl-C typed at the terminal reaches the whole foreground process group, the command included.
        if signum == signal.SIGINT and interactive:
            return
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signum)

    if threading.current_thread() is threading.main_thread():
        for name in FORWARDED:
            number = getattr(signal, name, None)
            if number is not None:
                previous[number] = signal.signal(number, forward)
    try:
        attribution = tracker_kwargs["attribution"]
        if attribution in ("process", "cgroup") and tracker_kwargs.get("pid") is None:
            tracker_kwargs["pid"] = child.pid
        tracker = Tracker(**tracker_kwargs)
        tracker.command = shlex.join(argv)
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
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
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
