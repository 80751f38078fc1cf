// Figures of the JavaScript client (prints them; asserts nothing): node bench/bench.mjs [SERVER_URL [TOKEN]]
// the calculator's speed, the first call's cost (the tables parsed), and with a server, ingest throughput.
import { performance } from "node:perf_hooks";

const t0 = performance.now();
const { compareRegions, estimate } = await import("@wattprint/client/calculator");
const loaded = performance.now() - t0;
const t1 = performance.now();
estimate({ gpu: "NVIDIA A100 80GB PCIe", hours: 1, location: "FR" });
const first = performance.now() - t1;

function rate(name, fn, seconds = 1) {
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) { fn(); n++; }
  const per = (performance.now() - start) / n;
  console.log(`${name}: ${(1000 / per).toFixed(0)}/s (${(per * 1000).toFixed(1)} µs each)`);
}

console.log(`import of @wattprint/client/calculator: ${loaded.toFixed(1)} ms; first estimate (tables indexed): ${first.toFixed(1)} ms`);
rate("estimate (GPU + CPU + memory, a location)", () => estimate({ gpu: "NVIDIA A100 80GB PCIe", gpu_count: 8, cpu_tdp_w: 250, memory_gb: 512, hours: 24, location: "US-CA" }));
rate("compareRegions (every cloud region)", () => compareRegions({ energy_kwh: 100 }));

const [url, token] = process.argv.slice(2);
if (url) {
  const { WattprintClient, startRun } = await import("@wattprint/client");
  const client = new WattprintClient({ url, token });
  const runs = 40, buckets = 120;
  const start = performance.now();
  await Promise.all(Array.from({ length: 8 }, async (_, worker) => {
    for (let r = worker; r < runs; r += 8) {
      const run = startRun(client, { project: "bench-js", name: `bench ${r}` });
      for (let b = 0; b < buckets; b++) run.addInterval({ bucket: b, start_offset_s: b * 10, end_offset_s: b * 10 + 10, component: "cpu", device: "package-0", energy_j: 500, avg_power_w: 50, method: "counter", uncertainty_rel: 0.05 });
      await run.finish();
    }
  }));
  const seconds = (performance.now() - start) / 1000;
  console.log(`ingest, 8 concurrent senders, ${runs} runs x ${buckets} intervals: ${(runs * buckets / seconds).toFixed(0)} intervals/s (${(runs / seconds).toFixed(1)} runs/s)`);
}
