"""SLURM's own energy accounting of a job (``sacct``'s ``ConsumedEnergyRaw``), shown beside wattprint's figure.

Read only for a group that ran under SLURM (its parts recorded ``SLURM_JOB_ID``) and where ``sacct`` is on the
PATH; a site without an energy plugin (``AcctGatherEnergyType``) leaves the field empty, and nothing is shown.
SLURM's figure is the nodes' whole draw over the job's allocation (RAPL or IPMI, as the site configures it), so it
may differ from ours, which covers the devices the ranks measured while they ran.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

from wattprint.core.formatting import format_energy

TIMEOUT_S = 10.0


@dataclass(frozen=True)
class SacctEnergy:
    """``sacct``'s energy of one job: the whole job and each of its steps (J)."""

    job_id: str
    energy_j: float | None
    steps: dict[str, float]

    def to_json(self) -> dict[str, object]:
        return {"job_id": self.job_id, "consumed_energy_j": self.energy_j, "steps": dict(self.steps),
                "source": "sacct ConsumedEnergyRaw"}

    def lines(self, ours_j: float) -> list[str]:
        total = self.energy_j if self.energy_j is not None else sum(self.steps.values())
        ratio = f" ({ours_j / total:.0%} of it measured by wattprint)" if total > 0 else ""
        found = [f"  SLURM job {self.job_id}: {format_energy(total)} by sacct ConsumedEnergyRaw (the nodes' whole "
                 f"draw over the allocation, as the site's energy plugin measures it){ratio}"]
        found += [f"    step {step}: {format_energy(energy)}" for step, energy in self.steps.items()]
        return found


def parse_sacct(job_id: str, output: str) -> SacctEnergy | None:
    """``sacct --parsable2 --noheader --format=JobID,ConsumedEnergyRaw`` output; None when no line has energy."""
    job: float | None = None
    steps: dict[str, float] = {}
    for line in output.splitlines():
        fields = line.strip().split("|")
        if len(fields) < 2 or not fields[1].strip():
            continue
        try:
            energy = float(fields[1])
        except ValueError:
            continue
        name = fields[0].strip()
        if name == job_id:
            job = energy
        elif name.startswith(job_id + "."):
            steps[name[len(job_id) + 1:]] = energy
    if job is None and not steps:
        return None
    return SacctEnergy(job_id, job, steps)


def sacct_energy(job_id: str | None) -> SacctEnergy | None:
    """SLURM's energy of ``job_id``, or None (no job id, no ``sacct``, no energy recorded, or ``sacct`` failed)."""
    if not job_id or not job_id.replace("_", "").isalnum():
        return None
    command = shutil.which("sacct")
    if command is None:
        return None
    try:
        done = subprocess.run([command, "-j", job_id, "--noheader", "--parsable2",
                               "--format=JobID,ConsumedEnergyRaw"], capture_output=True, text=True,
                              timeout=TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return parse_sacct(job_id, done.stdout)
