"""A budget held against a run group: the parts' spending and predicted totals are summed over the ranks (one
all_reduce), so a group stops when its sum exceeds the budget even where no part alone does."""

from __future__ import annotations

from pathlib import Path

import pytest

import wattprint
from tests.fakes.sysfs import set_energy, write_zone
from wattprint.core.units import J_PER_KWH
from wattprint.integrations.distributed import group_decision, group_exceeds
from wattprint.predict.budget import Budget

dist = pytest.importorskip("torch.distributed")


def test_a_groups_sum_exceeds_where_no_part_does() -> None:
    budget = Budget(energy_kwh=1.0, policy="stop")
    assert not group_exceeds(budget, 0.6, 0.0)  # one part's figure is within the budget
    assert group_exceeds(budget, 0.6 + 0.6, 0.0)  # two parts' sum is not
    assert not group_exceeds(Budget(energy_kwh=1.0, policy="warn"), 1.2, 0.0)  # only a stop policy stops
    assert group_exceeds(Budget(emissions_g=5.0, policy="stop"), 0.0, 5.5)
    assert not group_exceeds(Budget(emissions_g=5.0, policy="stop"), 10.0, 4.0)


@pytest.fixture
def process_group(tmp_path: Path):  # noqa: ANN201 - a real gloo group of one process
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'rendezvous'}", rank=0, world_size=1)
    try:
        yield
    finally:
        dist.destroy_process_group()


def test_group_decision_sums_what_the_part_spent_over_a_real_process_group(tmp_path: Path,
                                                                            process_group: None) -> None:
    root = tmp_path / "powercap"
    package = write_zone(root / "intel-rapl", "intel-rapl:0", "package-0", 0)
    limit_kwh = 5_000 / J_PER_KWH  # 5 kJ
    with wattprint.Tracker(powercap_root=str(root), gpus=False, store="off", budget_kwh=limit_kwh,
                           budget_policy="stop") as run:
        set_energy(package, 1_000 * 1_000_000)  # 1 kJ spent
        assert group_decision(run, False) is False
        assert group_decision(run, True) is True  # a part that says stop stops the group
        set_energy(package, 6_000 * 1_000_000)  # 6 kJ: over the budget, though this part's policy has not spoken
        assert not run.should_stop
        assert group_decision(run, False) is True
        assert group_decision(None, False) is False  # a rank not tracking: nothing spent and no budget of its own
