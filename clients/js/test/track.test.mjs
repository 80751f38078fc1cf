// track(): a Node.js workload measured (RAPL through a powercap tree this test writes, or the CPU/RAM model), sent to
// the real server or written to a file, in the record shape and labels of Python's tracker.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { createHash } from "node:crypto";

import { WattprintClient, track } from "@wattprint/client/node";
import { adminToken, skip, url } from "./helpers.mjs";

function work(rounds = 20000) {
  let h = "x";
  for (let i = 0; i < rounds; i++) h = createHash("sha256").update(h).digest("hex");
  return h;
}

async function powercap() {
  const root = await mkdtemp(join(tmpdir(), "powercap-"));
  const zone = join(root, "intel-rapl:0");
  await mkdir(zone, { recursive: true });
  await writeFile(join(zone, "name"), "package-0\n");
  await writeFile(join(zone, "energy_uj"), "1000000\n");
  await writeFile(join(zone, "max_energy_range_uj"), "262143328850\n");
  return { root, set: (uj) => writeFile(join(zone, "energy_uj"), `${uj}\n`) };
}

describe("track", () => {
  test("the CPU model and RAM model, written to a file, priced at a location", async () => {
    const dir = await mkdtemp(join(tmpdir(), "track-"));
    const file = join(dir, "run.json");
    const before = process.cpuUsage();
    let model;
    const { document, value } = await track({ project: "node", name: "model", file, location: "FR", powercapRoot: dir, intervalMs: 50 }, async (run) => {
      model = run.model;
      await run.task("hash", () => work());
      return 42;
    });
    const after = process.cpuUsage(before);
    assert.equal(value, 42);
    const cpu = document.components.find((c) => c.component === "cpu");
    const ram = document.components.find((c) => c.component === "ram");
    assert.equal(cpu.device, "cpu");
    assert.equal(cpu.method, "model");
    assert.ok([0.3, 0.4, 0.5, 0.6].includes(cpu.uncertainty_rel));
    assert.ok(cpu.energy_j > 0);
    // the process's share of the machine's CPU energy: at most full power over its own CPU time per logical CPU
    assert.ok(cpu.energy_j <= model.max_w * ((after.user + after.system) / 1e6) / cpus().length * 1.000001);
    assert.equal(ram.device, "ram");
    assert.equal(ram.method, "model");
    assert.equal(ram.uncertainty_rel, 0.5);
    assert.equal(document.run.attribution, "process");
    assert.equal(document.run.status, "finished");
    assert.equal(document.run.location, "FR");
    assert.ok(Math.abs(document.run.energy_j - cpu.energy_j - ram.energy_j) < 1e-9);
    const expected = document.run.energy_j / 3.6e6 * document.run.pue * document.run.intensity_g_per_kwh;
    assert.ok(Math.abs(document.run.emissions_g - expected) <= 1e-12 * expected);
    assert.equal(document.tasks.length, 1);
    assert.equal(document.tasks[0].name, "hash");
    assert.ok(document.tasks[0].energy_j > 0 && document.tasks[0].energy_j <= document.run.energy_j);
    const interval_sum = document.intervals.reduce((s, i) => s + i.energy_j, 0);
    assert.ok(Math.abs(interval_sum - document.run.energy_j) <= 1e-9 * document.run.energy_j);
    assert.deepEqual(JSON.parse(await readFile(file, "utf8")).run.run_id, document.run.run_id);
  });

  test("RAPL counters through powercap, sent to the server", { skip }, async () => {
    const client = new WattprintClient({ url, token: adminToken });
    const cap = await powercap();
    const { document, sent } = await track({ project: "node", name: "rapl", client, powercapRoot: cap.root, intervalMs: 60_000 }, async (run) => {
      await run.task("epoch 1", async () => {
        work();
        await cap.set(1000000 + 5_000_000); // 5 J on the package meanwhile
      });
    });
    assert.equal(sent.outcome, "sent");
    const cpu = document.components.find((c) => c.component === "cpu");
    assert.equal(cpu.device, "package-0");
    assert.equal(cpu.method, "counter");
    assert.equal(cpu.uncertainty_rel, cpus()[0].model.match(/amd/i) ? 0.15 : 0.05);
    assert.ok(cpu.energy_j > 0 && cpu.energy_j <= 5, `the process's share of 5 J, got ${cpu.energy_j}`);
    const stored = await client.run(document.run.run_id);
    assert.equal(stored.run.energy_j, document.run.energy_j);
    assert.deepEqual(stored.components.map((c) => [c.component, c.device, c.method]).sort(), [["cpu", "package-0", "counter"], ["ram", "ram", "model"]]);
    assert.equal(stored.tasks[0].name, "epoch 1");
  });

  test("a workload that throws: the run ends failed, is kept, and the error reaches the caller", async () => {
    const dir = await mkdtemp(join(tmpdir(), "track-"));
    const file = join(dir, "failed.json");
    await assert.rejects(track({ name: "boom", file, powercapRoot: dir }, async () => { work(100); throw new Error("boom"); }), /boom/);
    const doc = JSON.parse(await readFile(file, "utf8"));
    assert.equal(doc.run.status, "failed");
    assert.ok(doc.run.ended_at >= doc.run.started_at);
  });

  test("a bad option is a clear error", async () => {
    await assert.rejects(track({ cpuTdpW: -5 }, () => 1), /cpuTdpW must be a number of watts/);
  });
});
