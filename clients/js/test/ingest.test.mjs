// Ingest: idempotent re-sends, later sends adding intervals, the offline queue (memory and file) sending later.
import assert from "node:assert/strict";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";

import { FileQueue, MemoryQueue, WattprintClient, flushQueue, newRunId, startRun } from "@wattprint/client/node";
import { adminToken, downUrl, interval, skip, url } from "./helpers.mjs";

describe("ingest", { skip }, () => {
  const client = new WattprintClient({ url, token: adminToken });
  const project = `ingest-${newRunId().slice(0, 8)}`;

  test("sending again changes nothing, later sends add intervals, nothing is duplicated", async () => {
    const run = startRun(client, { project, name: "twice" });
    run.addInterval(interval(0, "package-0", 10)).addInterval(interval(0, "dram-0", 2, { component: "ram" }));
    await run.send();
    await run.send();
    run.addInterval(interval(1, "package-0", 20));
    await run.send();
    await run.finish();
    await run.finish();
    const doc = await client.run(run.runId);
    assert.equal(doc.intervals.length, 3);
    assert.equal(doc.run.energy_j, 32);
    assert.deepEqual(doc.components.map((c) => [c.device, c.energy_j]).sort(), [["dram-0", 2], ["package-0", 30]]);
    const listed = [];
    for await (const r of client.runs({ project })) listed.push(r.run_id);
    assert.deepEqual(listed, [run.runId]);
  });

  test("an answer lost on the way back: the retry sends the run again and the server keeps it once", async () => {
    let calls = 0;
    // the real fetch to the real server, whose first answer is dropped, as a connection cut after the request was sent
    const lossy = async (...args) => {
      const response = await fetch(...args);
      if (++calls === 1) throw new TypeError("fetch failed: connection reset");
      return response;
    };
    const flaky = new WattprintClient({ url, token: adminToken, fetch: lossy, retries: 3, backoffMs: 1 });
    const run = startRun(flaky, { project, name: "retried" });
    run.addInterval(interval(0, "package-0", 11)).addInterval(interval(1, "package-0", 12));
    assert.equal((await run.finish()).outcome, "sent");
    assert.equal(calls, 2);
    const doc = await client.run(run.runId);
    assert.equal(doc.intervals.length, 2);
    assert.equal(doc.run.energy_j, 23);
    const named = [];
    for await (const r of client.runs({ project })) if (r.name === "retried") named.push(r.run_id);
    assert.deepEqual(named, [run.runId]);
  });

  test("a server that cannot be reached: the run waits in the queue, flushQueue sends it once", async () => {
    const queue = new MemoryQueue();
    const down = new WattprintClient({ url: downUrl, retries: 2, backoffMs: 1 });
    const run = startRun(down, { project, name: "offline", queue });
    run.addInterval(interval(0, "package-0", 7));
    assert.equal((await run.send()).outcome, "queued");
    run.addInterval(interval(1, "package-0", 8));
    assert.equal((await run.finish()).outcome, "queued");
    const queued = await queue.list();
    assert.equal(queued.length, 1);
    assert.equal(queued[0].intervals.length, 2);
    const result = await flushQueue(client, queue);
    assert.deepEqual(result.sent, [run.runId]);
    assert.deepEqual(await queue.list(), []);
    const doc = await client.run(run.runId);
    assert.equal(doc.run.status, "finished");
    assert.equal(doc.run.energy_j, 15);
    assert.deepEqual((await flushQueue(client, queue)).sent, []);
  });

  test("the file queue keeps documents across processes and merges states of one run", async () => {
    const dir = await mkdtemp(join(tmpdir(), "wattprint-queue-"));
    const path = join(dir, "outbox.json");
    const queue = new FileQueue(path);
    const run = startRun(undefined, { project, queue });
    run.addInterval(interval(0, "package-0", 1));
    await run.send();
    run.addInterval(interval(1, "package-0", 2));
    await Promise.all([run.send(), run.send()]);
    const again = new FileQueue(path);
    const [doc] = await again.list();
    assert.equal(doc.run.run_id, run.runId);
    assert.equal(doc.intervals.length, 2);
    assert.equal(JSON.parse(await readFile(path, "utf8"))[run.runId].run.energy_j, 3);
    assert.deepEqual((await flushQueue(client, again)).sent, [run.runId]);
    assert.deepEqual(await new FileQueue(path).list(), []);
  });
});
