// One step of the "offline queue across a server restart" test, in a process of its own:
//   node outbox.mjs queue URL QUEUE_FILE PROJECT   -> a run sent while the server is down waits in QUEUE_FILE
//   node outbox.mjs flush URL QUEUE_FILE           -> what waits is sent; prints the FlushResult as JSON
import { FileQueue, WattprintClient, flushQueue, startRun } from "@wattprint/client/node";

const [mode, url, path, project] = process.argv.slice(2);
const client = new WattprintClient({ url, token: process.env.WATTPRINT_TEST_TOKEN, retries: 2, backoffMs: 10 });
const queue = new FileQueue(path);
if (mode === "queue") {
  const run = startRun(client, { project, name: "sent while the server was down", queue });
  run.addInterval({ bucket: 0, start_offset_s: 0, end_offset_s: 10, component: "cpu", device: "package-0", energy_j: 42,
    avg_power_w: 4.2, method: "counter", uncertainty_rel: 0.05 });
  const result = await run.finish();
  console.log(JSON.stringify({ run_id: run.runId, outcome: result.outcome }));
} else {
  console.log(JSON.stringify(await flushQueue(client, queue)));
}
