"""One rank of a tiny PyTorch DDP training over gloo, tracked by wattprint; started by torchrun in the tests.

Arguments: store URL, powercap root (its ``intel-rapl:0`` package zone), energy the test's "hardware" adds per
step (J), number of steps, and ``budget`` to give the run a budget that stops it after the first step group.
Rank 0 of each node advances its node's counter by the given energy after every step, between barriers, so that
every joule falls inside every part's run: the leader's CPU energy is exactly the node's delta, and a part that
counted the CPU again would show up as a multiple of it.
"""

from __future__ import annotations

import json
import os
import sys

import torch
import torch.distributed as dist

import wattprint
from wattprint.integrations.distributed import stop_together


def _set_energy(zone: str, energy_uj: int) -> None:
    with open(os.path.join(zone, "energy_uj"), "r+") as handle:
        handle.seek(0)
        handle.write(f"{energy_uj}\n".ljust(24))
        handle.truncate()


def main() -> None:
    store, powercap, joules, steps, mode = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    dist.init_process_group("gloo")
    rank, local_rank = dist.get_rank(), int(os.environ["LOCAL_RANK"])
    zone = os.path.join(powercap, "intel-rapl:0")
    budget = {"budget_kwh": 1e-12, "budget_policy": "stop", "total_steps": steps} if mode == "budget" else {}
    torch.manual_seed(0)
    model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(8, 2))
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
    run = wattprint.Tracker(project="ddp", name="ddp-train", store=store, powercap_root=powercap, gpus=False,
                            intensity_zone="FR", rapl_domains=("package",), **budget)
    with open(os.path.join(zone, "energy_uj")) as handle:
        base_uj = int(handle.read())
    run.start()
    dist.barrier()  # every part measures from here
    done = 0
    for step in range(steps):
        loss = model(torch.randn(4, 8)).pow(2).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        done += 1
        dist.barrier()
        if local_rank == 0:
            _set_energy(zone, base_uj + int((step + 1) * joules * 1e6))
        dist.barrier()
        if mode == "budget":
            run.step(raise_on_budget=False)
            if stop_together(run):
                break
    dist.barrier()  # every joule is in before any part stops
    run.stop()
    saved = run.wait_saved(60)
    # one write of the whole line: the ranks share torchrun's stdout, and print's two writes (text, newline) can
    # interleave with another rank's
    line = json.dumps({"rank": rank, "run_id": run.run_id, "steps": done, "saved": saved}) + "\n"
    os.write(sys.stdout.fileno(), line.encode())
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
