// The typed client against a real `wattprint server` on 127.0.0.1: every call, errors as problem details, auth.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { ArgumentError, NetworkError, ProblemError, WattprintClient, newRunId, startRun } from "@wattprint/client";
import { adminToken, downUrl, interval, skip, url } from "./helpers.mjs";

describe("WattprintClient", { skip }, () => {
  const client = new WattprintClient({ url, token: adminToken });
  const project = `js-${newRunId().slice(0, 8)}`;

  test("health", async () => {
    const health = await client.health();
    assert.equal(health.status, "ok");
    assert.equal(typeof health.schema_version, "number");
  });

  test("send runs, read them back, list with filters and pages, summaries, duplicates, re-price", async () => {
    const ids = [];
    for (let i = 0; i < 7; i++) {
      const run = startRun(client, { project, name: `run ${i}`, startedAt: 1_800_000_000 + i * 3600,
        record: { config_fingerprint: i < 3 ? "fp-same" : `fp-${i}`, location: "FR" } });
      run.addInterval(interval(0, "package-0", 100 + i)).addInterval(interval(1, "package-0", 50));
      run.addTask({ name: "epoch 1", started_at: 1_800_000_000 + i * 3600, duration_s: 10, energy_j: 100 + i, uncertainty_rel: 0.4, method: "model", components: [] });
      assert.deepEqual(await run.finish(), { outcome: "sent" });
      ids.push(run.runId);
    }
    const doc = await client.run(ids[2]);
    assert.equal(doc.run.run_id, ids[2]);
    assert.equal(doc.run.project, project);
    assert.equal(doc.run.status, "finished");
    assert.equal(doc.run.energy_j, 152);
    assert.deepEqual(doc.intervals.map((i) => [i.bucket, i.device, i.energy_j]), [[0, "package-0", 102], [1, "package-0", 50]]);
    assert.equal(doc.tasks.length, 1);
    assert.equal((await client.run(ids[2].slice(0, 10))).run.run_id, ids[2]);
    const series = await client.series(ids[2]);
    assert.deepEqual(series.map((s) => [s.component, s.device, s.points.map((p) => [p.start_offset_s, p.energy_j])]),
      [["cpu", "package-0", [[0, 102], [10, 50]]]]);

    const page = await client.listRuns({ project, sort: "started_at", limit: 3 });
    assert.deepEqual(page.items.map((r) => r.run_id), ids.slice(0, 3));
    assert.ok(page.next_cursor);
    const all = [];
    for await (const run of client.runs({ project, sort: "started_at", limit: 2 })) all.push(run.run_id);
    assert.deepEqual(all, ids);
    const since = [];
    for await (const run of client.runs({ project, since: String(1_800_000_000 + 5 * 3600), sort: "started_at" })) since.push(run.run_id);
    assert.deepEqual(since, ids.slice(5));

    const projects = await client.projects();
    const mine = projects.items.find((p) => p.name === project);
    assert.equal(mine.runs, 7);
    assert.equal(mine.energy_j, 7 * 150 + 21);

    const summary = await client.summary(project, "user");
    assert.equal(summary.by, "user");
    assert.equal(summary.groups.reduce((s, g) => s + g.runs, 0), 7);

    const duplicates = await client.duplicates(project);
    assert.match(JSON.stringify(duplicates), /fp-same/);

    const repriced = await client.reprice(ids[0], ["FR", "PL"]);
    assert.match(JSON.stringify(repriced), /"PL"/);

    const formats = await client.reportFormats();
    assert.match(JSON.stringify(formats), /md/);
    const report = await client.runReport(ids[0], { format: "md" });
    assert.equal(typeof report, "string");
    assert.ok(report.includes(ids[0].slice(0, 8)) || report.includes("run 0"), report.slice(0, 300));
    assert.equal(typeof (await client.projectReport(project, { format: "md" })), "string");
    assert.ok(Object.keys(await client.runSummary(ids[1])).length > 0);
    assert.ok(Object.keys(await client.runPaper(ids[1])).length > 0);
    const side = await client.compareRuns([ids[0], ids[3]], { repetitions: false });
    assert.match(JSON.stringify(side), new RegExp(ids[3]));
    assert.throws(() => client.compareRuns([ids[0]]), /two or more run ids/);
    assert.match(JSON.stringify(await client.badges({ project })), /badge\.svg/);
  });

  test("the calculator over HTTP", async () => {
    const estimate = await client.estimate({ gpu: "T4", hours: 2, location: "FR" });
    assert.equal(estimate.duration_s, 7200);
    assert.ok(estimate.emissions_g > 0);
    const compared = await client.compareRegions({ energy_kwh: 1, locations: ["FR", "PL"] });
    assert.deepEqual(compared.regions.map((r) => r.key), ["FR", "PL"]);
    const regions = await client.regions("france");
    assert.match(JSON.stringify(regions), /FR/);
  });

  test("errors are ProblemError objects with the server's problem details", async () => {
    await assert.rejects(client.run("ffffffffffffffffffffffffffffffff"), (error) => {
      assert.ok(error instanceof ProblemError);
      assert.equal(error.status, 404);
      assert.equal(error.problem.status, 404);
      assert.match(error.problem.type, /^https:\/\/wattprint\.org\/problems\//);
      return true;
    });
    const run = startRun(client, { project });
    const bad = run.document();
    bad.intervals = [{ ...interval(0, "package-0", 1), bucket: 1.5 }];
    await assert.rejects(client.putRun(bad), (error) => {
      assert.equal(error.status, 422);
      assert.equal(error.slug, "invalid-request");
      assert.deepEqual(error.errors.map((e) => e.field), ["intervals[0].bucket"]);
      return true;
    });
    await assert.rejects(client.group("0".repeat(32)), (error) => error instanceof ProblemError && error.status === 404);
    await assert.rejects(client.groupReport("0".repeat(32)), (error) => error instanceof ProblemError && error.status === 404);
    await assert.rejects(client.estimate({ gpu: "no such gpu at all", hours: 1 }), (error) => error.status === 422 && /gpu/.test(error.problem.detail));
    assert.throws(() => client.putRun({ run: { run_id: "nope" } }), ArgumentError);
    assert.throws(() => new WattprintClient({ url: "127.0.0.1:8000" }), /url must be the server's base URL/);
  });

  test("tokens: a bad token is 401, an ingest token of another project 403, revoked 401", async () => {
    await assert.rejects(new WattprintClient({ url, token: "wp_000000000000_" + "x".repeat(40) }).listRuns(), (e) => e.status === 401);
    const made = await client.createToken("ingest", { project, name: "js test" });
    assert.match(made.token, /^wp_[0-9a-f]{12}_/);
    const ingest = new WattprintClient({ url, token: made.token });
    const own = startRun(ingest, { project });
    own.addInterval(interval(0, "package-0", 5));
    assert.equal((await own.finish()).outcome, "sent");
    const other = startRun(ingest, { project: `${project}-other` });
    await assert.rejects(other.finish(), (e) => e instanceof ProblemError && e.status === 403);
    assert.ok((await client.tokens()).items.some((t) => t.token_id === made.token_id));
    await client.revokeToken(made.token_id);
    await assert.rejects(ingest.listRuns({ project }), (e) => e.status === 401);
  });

  test("an unreachable server is a NetworkError after the retries", async () => {
    const down = new WattprintClient({ url: downUrl, retries: 2, backoffMs: 1 });
    await assert.rejects(down.health(), (e) => e instanceof NetworkError && /could not be reached/.test(e.message));
  });
});
