"""A tiny Lightning fit with ``strategy="ddp"`` on 2 CPU processes (gloo), tracked by wattprint's callback.

Lightning starts the second process by running this script again. Arguments: store URL, powercap root, energy the
test's "hardware" adds per step (J), steps. Local rank 0 advances the package counter between barriers in every
step, so the energy lies inside both parts' runs.
"""

from __future__ import annotations

import os
import sys

import lightning.pytorch as pl
import torch

from wattprint.integrations.lightning import WattprintCallback


class Tiny(pl.LightningModule):
    def __init__(self, zone: str, joules: float) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(8, 2)
        self.zone, self.joules, self.done = zone, joules, 0

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        self.trainer.strategy.barrier()
        self.done += 1
        if self.trainer.local_rank == 0:
            with open(os.path.join(self.zone, "energy_uj"), "r+") as handle:
                handle.seek(0)
                handle.write(f"{int(self.done * self.joules * 1e6)}\n".ljust(24))
                handle.truncate()
        self.trainer.strategy.barrier()
        return self.layer(batch).pow(2).mean()

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main() -> None:
    store, powercap, joules, steps = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    torch.manual_seed(0)
    data = torch.utils.data.DataLoader(torch.randn(4 * steps, 8), batch_size=2)
    callback = WattprintCallback(project="lightning-ddp", store=store, powercap_root=powercap, gpus=False,
                                 intensity_zone="FR", rapl_domains=("package",))
    trainer = pl.Trainer(accelerator="cpu", devices=2, strategy="ddp", max_epochs=1, limit_train_batches=steps,
                         callbacks=[callback], logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False)
    trainer.fit(Tiny(os.path.join(powercap, "intel-rapl:0"), joules), data)
    assert callback.run is not None and callback.run.wait_saved(60)
    print(f"RANK {trainer.global_rank} {callback.run.run_id}", flush=True)


if __name__ == "__main__":
    main()
