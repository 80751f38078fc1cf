"""Config fingerprints (hyperparameters + git commit + entry script) and `wattprint runs --duplicates`."""

from __future__ import annotations

import dataclasses
import enum
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

import wattprint
from wattprint.core.errors import ConfigError
from wattprint.report.duplicates import duplicates_text, find_duplicates
from wattprint.run.fingerprint import canonical_json, entry_point, find_repository, fingerprint, git_commit
from wattprint.store import open_store

WATTPRINT = str(Path(sys.executable).with_name("wattprint"))
COMMIT_A = "a" * 40
COMMIT_B = "b" * 40


# -- canonical form and fingerprint --------------------------------------------------------------------------------


class Optimizer(enum.Enum):
    ADAM = "adam"


@dataclasses.dataclass
class Schedule:
    warmup: int
    peak: float


def test_equal_settings_written_differently_have_one_fingerprint() -> None:
    one = {"lr": 1.0, "layers": (64, 64), "optimizer": Optimizer.ADAM, "schedule": Schedule(10, 0.5),
           "tags": {"b", "a"}, "data": Path("/data/mnist")}
    two = {"data": "/data/mnist", "tags": ["a", "b"], "schedule": {"peak": 0.5, "warmup": 10}, "optimizer": "adam",
           "layers": [64, 64], "lr": 1}
    assert canonical_json(one) == canonical_json(two)
    assert fingerprint(one, code_version=COMMIT_A, entry_point="train.py") == \
        fingerprint(two, code_version=COMMIT_A, entry_point="train.py")


def test_any_difference_changes_the_fingerprint() -> None:
    base = fingerprint({"lr": 0.1}, code_version=COMMIT_A, entry_point="train.py")
    assert len(base) == 64
    assert base != fingerprint({"lr": 0.2}, code_version=COMMIT_A, entry_point="train.py")
    assert base != fingerprint({"lr": 0.1}, code_version=COMMIT_B, entry_point="train.py")
    assert base != fingerprint({"lr": 0.1}, code_version=COMMIT_A, entry_point="finetune.py")
    assert base != fingerprint({"lr": 0.1}, code_version=None, entry_point="train.py")


def test_values_whose_text_could_change_are_refused(no_rapl: str) -> None:
    with pytest.raises(ConfigError, match=r"hyperparameters\['model'\].*cannot be fingerprinted"):
        canonical_json({"model": object()})
    with pytest.raises(ConfigError, match="hyperparameters"):
        wattprint.Tracker(powercap_root=no_rapl, gpus=False, hyperparameters={"f": lambda x: x})
    with pytest.raises(ConfigError, match="mapping"):
        wattprint.Tracker(powercap_root=no_rapl, gpus=False, hyperparameters=[("lr", 0.1)])  # type: ignore[arg-type]


def test_numpy_and_torch_scalars_are_numbers() -> None:
    numpy = pytest.importorskip("numpy")
    torch = pytest.importorskip("torch")
    assert canonical_json({"lr": numpy.float32(0.5), "n": numpy.int64(3), "t": torch.tensor(2.0)}) == \
        canonical_json({"lr": 0.5, "n": 3, "t": 2})


# -- the code version, read from .git ------------------------------------------------------------------------------


def make_repository(root: Path, *, head: str = "ref: refs/heads/main\n", loose: str | None = COMMIT_A,
                    packed: str | None = None) -> Path:
    git = root / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text(head)
    if loose is not None:
        (git / "refs" / "heads" / "main").write_text(loose + "\n")
    if packed is not None:
        (git / "packed-refs").write_text(
            "# pack-refs with: peeled fully-peeled sorted\n"
            f"{COMMIT_B} refs/heads/other\n{packed} refs/heads/main\n^{COMMIT_B}\n"
        )
    return root


def test_git_commit_from_a_branch_ref_a_packed_ref_and_a_detached_head(tmp_path: Path) -> None:
    loose = make_repository(tmp_path / "loose")
    (loose / "src" / "pkg").mkdir(parents=True)
    assert git_commit(str(loose / "src" / "pkg")) == COMMIT_A  # found from a subdirectory
    packed = make_repository(tmp_path / "packed", loose=None, packed=COMMIT_B)
    assert git_commit(str(packed)) == COMMIT_B
    detached = make_repository(tmp_path / "detached", head=COMMIT_A + "\n", loose=None)
    assert git_commit(str(detached)) == COMMIT_A
    unborn = make_repository(tmp_path / "unborn", loose=None)
    assert git_commit(str(unborn)) is None
    outside = tmp_path / "outside"
    outside.mkdir()
    if find_repository(str(outside)) is None:  # the temporary directory is in no repository
        assert git_commit(str(outside)) is None


def test_git_commit_of_a_worktree(tmp_path: Path) -> None:
    main = make_repository(tmp_path / "main")
    worktree_git = main / ".git" / "worktrees" / "feature"
    worktree_git.mkdir(parents=True)
    (worktree_git / "HEAD").write_text("ref: refs/heads/main\n")
    (worktree_git / "commondir").write_text("../..\n")
    work = tmp_path / "feature"
    work.mkdir()
    (work / ".git").write_text(f"gitdir: {worktree_git}\n")
    assert find_repository(str(work)) == (str(work), str(worktree_git))
    assert git_commit(str(work)) == COMMIT_A


def test_this_checkout_reports_its_own_commit() -> None:
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        pytest.skip("not a git checkout")
    expected = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True)
    if expected.returncode != 0:
        pytest.skip("git is not available")
    assert git_commit(str(root)) == expected.stdout.strip()


def test_the_entry_point_is_relative_to_the_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "scripts" / "train.py"), "--lr", "0.1"])
    assert entry_point(str(tmp_path)) == "scripts/train.py"
    assert entry_point(None) == "train.py"


# -- runs and duplicates -------------------------------------------------------------------------------------------


def tracked_run(store: str, no_rapl: str, hyperparameters: dict | None, seconds: float = 0.05) -> wattprint.Tracker:
    run = wattprint.Tracker(project="dup", name="train", powercap_root=no_rapl, gpus=False, location="FR",
                            store=store, hyperparameters=hyperparameters)
    with run:
        time.sleep(seconds)
    assert run.wait_saved()
    return run


def test_repeated_runs_are_grouped_with_the_cost_of_the_repeats(tmp_path: Path, no_rapl: str) -> None:
    store = str(tmp_path / "runs.sqlite")
    first = tracked_run(store, no_rapl, {"lr": 0.1, "epochs": 3})
    second = tracked_run(store, no_rapl, {"epochs": 3, "lr": 0.1})
    third = tracked_run(store, no_rapl, {"lr": 0.1, "epochs": 3.0})
    other = tracked_run(store, no_rapl, {"lr": 0.2, "epochs": 3})
    tracked_run(store, no_rapl, None)
    assert first.config_fingerprint == second.config_fingerprint == third.config_fingerprint
    assert first.result.config_fingerprint == first.config_fingerprint
    assert other.config_fingerprint != first.config_fingerprint

    with open_store(store) as opened:
        record = opened.run(first.run_id)
        assert record.config_fingerprint == first.config_fingerprint
        assert record.details.fingerprint is not None
        assert record.details.fingerprint.hyperparameters == {"epochs": 3, "lr": 0.1}
        assert record.details.fingerprint.code_version == git_commit()
        groups = find_duplicates(opened.runs(limit=None))
    assert len(groups) == 1
    group = groups[0]
    assert [r.run_id for r in group.runs] == [first.run_id, second.run_id, third.run_id]
    assert group.original.run_id == first.run_id
    repeats = (second.result, third.result)
    assert group.repeat_energy_kwh == pytest.approx(sum(r.energy_kwh for r in repeats))
    assert group.repeat_emissions_g == pytest.approx(sum(r.emissions_g for r in repeats))
    assert "2 repeat(s)" in duplicates_text(groups)

    listing = subprocess.run([WATTPRINT, "--store", store, "runs", "--duplicates", "--json"], capture_output=True,
                             text=True, check=True)
    data = json.loads(listing.stdout)
    assert data["repeats"] == 2
    assert data["repeat_energy_kwh"] == pytest.approx(group.repeat_energy_kwh)
    assert data["groups"][0]["run_ids"] == [first.run_id, second.run_id, third.run_id]
    assert data["groups"][0]["config_fingerprint"] == first.config_fingerprint
    text = subprocess.run([WATTPRINT, "--store", store, "runs", "--duplicates", "--project", "dup"],
                          capture_output=True, text=True, check=True).stdout
    assert first.config_fingerprint[:12] in text
    assert sum(line.endswith("  original") for line in text.splitlines()) == 1
    assert sum(line.endswith("  repeat") for line in text.splitlines()) == 2
    assert "in all: 2 repeated run(s) used" in text
    nothing = subprocess.run([WATTPRINT, "--store", store, "runs", "--duplicates", "--project", "elsewhere"],
                             capture_output=True, text=True, check=True).stdout
    assert nothing.startswith("no repeated runs")
