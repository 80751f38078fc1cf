/** Track a Node.js workload: `await track({project, name}, async (run) => { ... await run.task("epoch 1", fn) })`.
 *
 * Energy of this process, attributed as Python's `attribution="process"` does: the machine's CPU energy times the
 * process's share of the machine's CPU time (`process.cpuUsage()` over elapsed time x logical CPUs), and memory by
 * its resident set. The machine's CPU energy comes from RAPL counters through powercap where readable (method
 * `counter`), else from the same CPU model as Python's (`model`: idle 21 % of TDP + utilisation x the rest; per-thread
 * defaults for a CPU not in the table; RAM 0.3725 W per GB). Records, labels and uncertainties are Python's. The
 * run goes to a server (`client`), to a JSON file (`file`), or both. */
import { readFileSync, readdirSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, hostname, userInfo } from "node:os";
import { dirname, join } from "node:path";

import { account, locate } from "./calculator/accounting.js";
import { lookupCpu } from "./calculator/data.js";
import type { WattprintClient } from "./client.js";
import { ArgumentError } from "./errors.js";
import { RunBuilder, type RunStatus, type SendResult } from "./ingest.js";
import type { OfflineQueue } from "./queue.js";
import type { DeviceEnergy, RunDocument } from "./types.js";

export const IDLE_FRACTION = 0.21;
export const PER_THREAD_IDLE_W = 0.74;
export const PER_THREAD_MAX_W = 3.5;
export const RAM_W_PER_GB = 0.3725;
const UNCERTAINTY = { tdp: 0.4, tdpVm: 0.5, userTdp: 0.3, perThread: 0.6, ram: 0.5 };
const RAPL_UNCERTAINTY = { intel: { package: 0.05, dram: 0.15 }, amd: { package: 0.15, dram: 0.2 } };
const BUCKET_S = 10;

export interface TrackOptions {
  project?: string;
  name?: string;
  /** Send the run to this server (its state every `sendEveryS`, and at the end). */
  client?: WattprintClient;
  /** Where states the server could not take wait (default: in memory). */
  queue?: OfflineQueue;
  /** Also write the final RunDocument to this JSON file. */
  file?: string;
  /** The powercap tree (default: $WATTPRINT_POWERCAP_ROOT, else /sys/class/powercap). */
  powercapRoot?: string;
  /** One CPU's TDP in watts, instead of the table's (as Python's cpu_tdp_w). */
  cpuTdpW?: number;
  /** A location to price the run with (`FR`, `gcp:europe-west1`); none: the energy only. */
  location?: string;
  /** Sampling period (default 1000 ms). */
  intervalMs?: number;
  /** Seconds between sends to the server while running (default 30). */
  sendEveryS?: number;
}

export interface CpuModel { idle_w: number; max_w: number; basis: string; uncertainty_rel: number }
interface RaplZone { name: string; path: string; range: number; last: number; component: "cpu" | "ram"; uncertainty: number }

function cpuModel(tdpW?: number): CpuModel {
  const threads = cpus().length;
  if (tdpW !== undefined) {
    if (!(tdpW >= 1 && tdpW <= 10_000)) throw new ArgumentError(`cpuTdpW must be a number of watts from 1 to 10000, got ${JSON.stringify(tdpW)}`);
    return { idle_w: IDLE_FRACTION * tdpW, max_w: tdpW, basis: `maximum CPU power ${tdpW} W given by the user (cpuTdpW)`, uncertainty_rel: UNCERTAINTY.userTdp };
  }
  const name = cpus()[0]?.model?.trim() ?? "";
  const spec = name ? lookupCpu(name) : undefined;
  let virtualized = false;
  try { virtualized = /\bhypervisor\b/.test(readFileSync("/proc/cpuinfo", "utf8")); } catch { /* not Linux */ }
  if (spec && !virtualized) {
    return { idle_w: IDLE_FRACTION * spec.tdp_w, max_w: spec.tdp_w, basis: `TDP of ${spec.name} (${spec.tdp_w} W) x 1 socket(s)`, uncertainty_rel: UNCERTAINTY.tdp };
  }
  if (spec && spec.cores) {
    const max = (spec.tdp_w / (2 * spec.cores)) * threads;
    return { idle_w: IDLE_FRACTION * max, max_w: max, basis: `virtual machine: ${threads} vCPU(s) x TDP of ${spec.name} (${spec.tdp_w} W) / ${2 * spec.cores} threads (two per core assumed)`, uncertainty_rel: UNCERTAINTY.tdpVm };
  }
  return { idle_w: PER_THREAD_IDLE_W * threads, max_w: PER_THREAD_MAX_W * threads,
    basis: `CPU ${JSON.stringify(name)} ${spec ? "has no core count in the TDP table (virtual machine)" : "is not in the TDP table"}: per-thread default of ${PER_THREAD_IDLE_W} W idle to ${PER_THREAD_MAX_W} W busy x ${threads} thread(s); cpuTdpW for a better estimate`,
    uncertainty_rel: UNCERTAINTY.perThread };
}

const ZONE = /^intel-rapl(?:-mmio)?:\d+(?::\d+)?$/;

/** The readable RAPL package and DRAM zones under `root` (none when the tree is absent or unreadable). */
function raplZones(root: string, notes: string[]): RaplZone[] {
  const family = /amd/i.test(cpus()[0]?.model ?? "") ? "amd" : "intel";
  const zones: RaplZone[] = [];
  const seen = new Set<string>();
  const visit = (dir: string, depth: number) => {
    let entries: string[];
    try { entries = readdirSync(dir).sort(); } catch { return; }
    for (const entry of entries) {
      if (!ZONE.test(entry) && !(depth === 0 && entry === "intel-rapl")) continue;
      const path = join(dir, entry);
      if (ZONE.test(entry)) {
        try {
          const name = readFileSync(join(path, "name"), "utf8").trim();
          const domain = name.startsWith("package") ? "package" : name === "dram" ? "dram" : null;
          if (domain && !seen.has(`${name}:${entry.split(":")[1]}`)) {
            const last = Number(readFileSync(join(path, "energy_uj"), "utf8").trim());
            const range = Number(readFileSync(join(path, "max_energy_range_uj"), "utf8").trim());
            seen.add(`${name}:${entry.split(":")[1]}`);
            zones.push({ name: domain === "dram" ? `dram-${entry.split(":")[1]}` : name, path, range, last,
              component: domain === "package" ? "cpu" : "ram", uncertainty: RAPL_UNCERTAINTY[family][domain] });
          }
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === "EACCES") notes.push(`RAPL zone ${path} is not readable (root only since CVE-2020-8694): CPU energy is modelled; sudo chmod o+r ${path}/energy_uj to measure it`);
        }
      }
      if (depth < 2) visit(path, depth + 1);
    }
  };
  visit(root, 0);
  return zones;
}

function machineTimes(): { busy: number; total: number } {
  let busy = 0, total = 0;
  for (const c of cpus()) {
    const t = c.times;
    busy += t.user + t.nice + t.sys + t.irq;
    total += t.user + t.nice + t.sys + t.irq + t.idle;
  }
  return { busy, total };
}

/** One tracked run: `task(name, fn)` measures a window; `energyJ` so far; `builder` holds the RunDocument. */
export class TrackedRun {
  readonly builder: RunBuilder;
  readonly notes: string[] = [];
  private readonly started = performance.now();
  private last = performance.now();
  private lastCpu = process.cpuUsage();
  private lastTimes = machineTimes();
  /** The CPU power model used where no RAPL counter is readable. */
  readonly model: CpuModel;
  private readonly zones: RaplZone[];
  /** Joules per (component, device) since the start, and per bucket. */
  private readonly totals = new Map<string, { component: string; device: string; energy_j: number; method: string; uncertainty_rel: number }>();
  private readonly buckets = new Map<string, number>();
  private readonly changed = new Set<string>();

  constructor(options: TrackOptions) {
    this.builder = new RunBuilder(options.client, {
      project: options.project ?? null, name: options.name ?? null, queue: options.queue, attribution: "process",
      hostname: hostname(), username: safeUser(), pid: process.pid, command: process.argv.slice(1).join(" ") || null,
    });
    this.model = cpuModel(options.cpuTdpW);
    const root = options.powercapRoot ?? process.env.WATTPRINT_POWERCAP_ROOT ?? "/sys/class/powercap";
    this.zones = raplZones(root, this.notes);
    if (!this.zones.some((z) => z.component === "cpu")) this.notes.push(`CPU: model (${this.model.basis})`);
  }

  /** Read every source and add the energy since the last reading (called by the timer, and at task edges). */
  sample(): void {
    const now = performance.now();
    const dt = (now - this.last) / 1000;
    const cpu = process.cpuUsage();
    const times = machineTimes();
    const ownS = (cpu.user - this.lastCpu.user + cpu.system - this.lastCpu.system) / 1e6;
    const share = dt > 0 ? Math.min(1, ownS / (dt * cpus().length)) : 0;
    const busy = times.total > this.lastTimes.total ? (times.busy - this.lastTimes.busy) / (times.total - this.lastTimes.total) : 0;
    const offset = (now - this.started) / 1000;
    const add = (component: string, device: string, joules: number, method: string, uncertainty: number) => {
      const key = `${component}\u0000${device}`;
      const total = this.totals.get(key) ?? { component, device, energy_j: 0, method, uncertainty_rel: uncertainty };
      total.energy_j += joules;
      this.totals.set(key, total);
      const bucketKey = `${Math.floor(offset / BUCKET_S)}\u0000${key}`;
      this.buckets.set(bucketKey, (this.buckets.get(bucketKey) ?? 0) + joules);
      this.changed.add(bucketKey);
    };
    let cpuCounted = false, ramCounted = false;
    for (const zone of this.zones) {
      let value: number;
      try { value = Number(readFileSync(join(zone.path, "energy_uj"), "utf8").trim()); } catch { continue; }
      let delta = value - zone.last;
      if (delta < 0) delta += zone.range; // the counter wrapped
      zone.last = value;
      const joules = delta / 1e6;
      // the process's share: of CPU time for the package, of memory in use for DRAM (its resident set over the machine's)
      const part = zone.component === "cpu" ? share : Math.min(1, process.memoryUsage().rss / Math.max(1, usedMemory()));
      add(zone.component, zone.name, joules * part, "counter", zone.uncertainty);
      if (zone.component === "cpu") cpuCounted = true; else ramCounted = true;
    }
    if (!cpuCounted) {
      const power = this.model.idle_w + (this.model.max_w - this.model.idle_w) * Math.min(1, Math.max(0, busy));
      add("cpu", "cpu", power * dt * share, "model", this.model.uncertainty_rel);
    }
    if (!ramCounted) add("ram", "ram", RAM_W_PER_GB * (process.memoryUsage().rss / 1e9) * dt, "model", UNCERTAINTY.ram);
    this.last = now;
    this.lastCpu = cpu;
    this.lastTimes = times;
    this.flush(offset);
  }

  private flush(offset: number): void {
    for (const key of this.changed) {
      const energy = this.buckets.get(key)!;
      const [bucket, component, device] = key.split("\u0000");
      const total = this.totals.get(`${component}\u0000${device}`)!;
      const start = Number(bucket) * BUCKET_S;
      const end = Math.min(offset, start + BUCKET_S);
      this.builder.addInterval({ bucket: Number(bucket), start_offset_s: start, end_offset_s: end, component, device,
        energy_j: energy, avg_power_w: end > start ? energy / (end - start) : 0, method: total.method, uncertainty_rel: total.uncertainty_rel });
    }
    this.changed.clear();
  }

  /** The energy of each device so far. */
  components(): DeviceEnergy[] {
    const elapsed = (performance.now() - this.started) / 1000;
    return [...this.totals.values()].map((t) => ({ ...t, avg_power_w: elapsed > 0 ? t.energy_j / elapsed : 0 }));
  }

  get energyJ(): number {
    return [...this.totals.values()].reduce((s, t) => s + t.energy_j, 0);
  }

  /** Run `fn` as a task window: its energy, duration and components become a TaskRecord of the run. */
  async task<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
    this.sample();
    const before = new Map([...this.totals].map(([k, v]) => [k, v.energy_j]));
    const startedAt = Date.now() / 1000;
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.sample();
      const duration = (performance.now() - t0) / 1000;
      const parts = [...this.totals.entries()].map(([k, v]) => ({ component: v.component, device: v.device,
        energy_j: v.energy_j - (before.get(k) ?? 0), avg_power_w: duration > 0 ? (v.energy_j - (before.get(k) ?? 0)) / duration : 0,
        method: v.method, uncertainty_rel: v.uncertainty_rel }));
      const energy = parts.reduce((s, p) => s + p.energy_j, 0);
      const abs = Math.sqrt(parts.reduce((s, p) => s + (p.energy_j * p.uncertainty_rel) ** 2, 0));
      const methods = [...new Set(parts.map((p) => p.method))];
      this.builder.addTask({ name, started_at: startedAt, duration_s: duration, energy_j: energy,
        uncertainty_rel: energy > 0 ? abs / energy : 0, method: methods.length === 1 ? methods[0] : "mixed", components: parts });
    }
  }
}

function usedMemory(): number {
  try {
    const info = readFileSync("/proc/meminfo", "utf8");
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(info)?.[1] ?? 0) * 1024;
    return field("MemTotal") - field("MemAvailable");
  } catch {
    return process.memoryUsage().rss;
  }
}

function safeUser(): string {
  try { return userInfo().username; } catch { return process.env.USER ?? "unknown"; }
}

export interface TrackResult<T> {
  value: T;
  document: RunDocument;
  sent?: SendResult;
}

/** Track `fn`: the run is sent (with `client`) and/or written (`file`); a failing `fn` ends the run `failed` and
 * its error is thrown again after the run is saved. Background send failures never reach `fn`. */
export async function track<T>(options: TrackOptions, fn: (run: TrackedRun) => T | Promise<T>): Promise<TrackResult<T>> {
  const run = new TrackedRun(options);
  const timer = setInterval(() => run.sample(), options.intervalMs ?? 1000);
  timer.unref();
  let lastSend = Date.now();
  const sender = options.client ? setInterval(() => {
    if (Date.now() - lastSend < (options.sendEveryS ?? 30) * 1000) return;
    lastSend = Date.now();
    run.builder.send().catch((error) => { run.notes.push(`a send failed and was not retried: ${error?.message ?? error}`); });
  }, 1000) : undefined;
  sender?.unref();
  let status: RunStatus = "finished";
  let value: T | undefined;
  let failure: unknown;
  try {
    value = await fn(run);
  } catch (error) {
    status = "failed";
    failure = error;
  } finally {
    clearInterval(timer);
    if (sender) clearInterval(sender);
    run.sample();
  }
  run.builder.setComponents(run.components());
  const fields: Record<string, unknown> = { notes: run.notes };
  if (options.location !== undefined) {
    const doc = run.builder.document();
    const fp = account(doc.run.energy_j / 3.6e6, doc.run.energy_uncertainty_rel, locate(options.location));
    Object.assign(fields, { location: fp.intensity.zone, how_located: fp.intensity.how_located, intensity_g_per_kwh: fp.intensity.g_per_kwh,
      intensity_zone: fp.intensity.zone, intensity_source: fp.intensity.source, intensity_year: fp.intensity.year, intensity_kind: fp.intensity.kind,
      intensity_uncertainty_rel: fp.intensity.uncertainty_rel, pue: fp.pue, facility_energy_j: fp.facility_energy_kwh * 3.6e6,
      emissions_g: fp.emissions_g, emissions_uncertainty_rel: fp.emissions_uncertainty_rel, water_l: fp.water_l });
  }
  let sent: SendResult | undefined;
  if (options.client) {
    try {
      sent = await run.builder.finish(status, fields);
    } catch (error) {
      sent = { outcome: "queued", error };
      run.notes.push(`the server refused the run: ${(error as Error)?.message ?? error}`);
    }
  } else {
    await run.builder.finish(status, fields).catch(() => undefined); // no client: the state goes to the queue
  }
  const document = run.builder.document();
  if (options.file) {
    await mkdir(dirname(options.file), { recursive: true });
    await writeFile(options.file, JSON.stringify(document, null, 2));
  }
  if (failure !== undefined) throw failure;
  return { value: value as T, document, sent };
}
