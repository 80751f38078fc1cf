"""Hints speak the reader's terms: the Python API's keywords, a command's options, and the API's again inside a
command that serves it (the team server)."""

from __future__ import annotations

from wattprint.settings import hints


def test_a_hint_is_worded_for_whoever_reads_it() -> None:
    assert hints.setting("cpu_tdp_w") == "pass cpu_tdp_w="
    with hints.command_line({"cpu_tdp_w": "--cpu-tdp-w"}):
        assert hints.setting("cpu_tdp_w") == "give --cpu-tdp-w"
        assert hints.setting("pue") == "set pue in wattprint.toml (or WATTPRINT_PUE)"
        with hints.python_api():
            assert not hints.speaking_to_command_line()
            assert hints.setting("cpu_tdp_w") == "pass cpu_tdp_w=" and hints.name("gpu") == "gpu="
        assert hints.setting("cpu_tdp_w") == "give --cpu-tdp-w"  # the command's voice again after serving
    assert not hints.speaking_to_command_line()
