/** Ingest from JavaScript: build a run (the same RunDocument as Python sends), add intervals and tasks, send it whole
 * with `PUT /runs/{id}` (idempotent: ids and interval keys are made here), and keep what the server could not take in
 * an offline queue that `flushQueue` sends later. */
import { WattprintClient } from "./client.js";
import { ArgumentError, isRetryable } from "./errors.js";
import { newRunId } from "./ids.js";
import { MemoryQueue, type OfflineQueue } from "./queue.js";
import type { DeviceEnergy, IntervalRecord, RunDocument, RunRecord, TaskRecord } from "./types.js";
import { VERSION } from "./version.js";

export type RunStatus = "running" | "finished" | "failed" | "killed";

/** An interval to add: its emissions and intensity may be left out (null). */
export type IntervalInput = Omit<IntervalRecord, "emissions_g" | "intensity_g_per_kwh"> &
  Partial<Pick<IntervalRecord, "emissions_g" | "intensity_g_per_kwh">>;

export interface RunOptions {
  project?: string | null;
  name?: string | null;
  /** A run id of 32 hex digits (default: a new random one). */
  runId?: string;
  /** `process`, `machine` or `cgroup`: what the energy covers (default `process`). */
  attribution?: string;
  hostname?: string;
  username?: string;
  pid?: number;
  command?: string | null;
  /** Unix seconds (default: now). */
  startedAt?: number;
  /** Where unsent states wait (default: in memory). */
  queue?: OfflineQueue;
  /** Fields of the run record to set as they are (location, intensity, notes, hardware, extra ...). */
  record?: Partial<RunRecord>;
}

export interface SendResult {
  /** `sent`: the server has this state; `queued`: it could not be reached and the state waits in the queue. */
  outcome: "sent" | "queued";
  error?: unknown;
}

const now = () => Date.now() / 1000;

function finite(name: string, value: unknown, minimum = 0): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < minimum) {
    throw new ArgumentError(`${name} must be a finite number of at least ${minimum}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function hostInfo(): { hostname: string; username: string; pid: number } {
  const proc = (globalThis as { process?: { pid?: number; env?: Record<string, string | undefined> } }).process;
  const env = proc?.env ?? {};
  return {
    hostname: env.HOSTNAME ?? (typeof location !== "undefined" ? location.hostname : "unknown"),
    username: env.USER ?? env.USERNAME ?? "unknown",
    pid: proc?.pid ?? 0,
  };
}

/** One run being recorded: add intervals (keyed by bucket and device) and tasks (numbered), `send()` it as often as
 * wanted, `finish()` it. Totals per device are summed from the intervals unless `setComponents` gives them. */
export class RunBuilder {
  readonly runId: string;
  readonly client?: WattprintClient;
  readonly queue: OfflineQueue;
  private record: RunRecord;
  private readonly intervals = new Map<string, IntervalRecord>();
  private readonly tasks: TaskRecord[] = [];
  private components?: DeviceEnergy[];
  private stale = false;

  constructor(client: WattprintClient | undefined, options: RunOptions = {}) {
    const runId = options.runId ?? newRunId();
    if (!/^[0-9a-f]{32}$/.test(runId)) throw new ArgumentError(`runId must be 32 lowercase hex digits, got ${JSON.stringify(runId)}`);
    this.runId = runId;
    this.client = client;
    this.queue = options.queue ?? new MemoryQueue();
    const host = hostInfo();
    const started = options.startedAt ?? now();
    this.record = {
      run_id: runId, project: options.project ?? null, name: options.name ?? null, status: "running",
      started_at: started, updated_at: started, ended_at: null, duration_s: 0, energy_j: 0, energy_uncertainty_rel: 0,
      attribution: options.attribution ?? "process", hostname: options.hostname ?? host.hostname,
      username: options.username ?? host.username, pid: options.pid ?? host.pid,
      wattprint_version: `@wattprint/client ${VERSION}`, command: options.command ?? null,
      ...options.record,
    } as RunRecord;
  }

  /** Add (or replace: same bucket and device) one interval; the run's totals follow. */
  addInterval(interval: IntervalInput): this {
    if (!Number.isInteger(interval.bucket) || interval.bucket < 0) throw new ArgumentError(`interval.bucket must be a whole number of at least 0, got ${JSON.stringify(interval.bucket)}`);
    finite("interval.energy_j", interval.energy_j);
    finite("interval.end_offset_s", interval.end_offset_s);
    if (!interval.device || !interval.component) throw new ArgumentError("interval.component and interval.device are required (e.g. \"cpu\", \"process\")");
    this.intervals.set(`${interval.bucket}\u0000${interval.device}`, { emissions_g: null, intensity_g_per_kwh: null, ...interval });
    this.stale = true; // the totals are summed once, when the document is made
    return this;
  }

  /** Add a task window (its `seq` is given in order). */
  addTask(task: Omit<TaskRecord, "seq"> & { seq?: number }): TaskRecord {
    finite("task.energy_j", task.energy_j);
    finite("task.duration_s", task.duration_s);
    const record = { ...task, seq: task.seq ?? this.tasks.length } as TaskRecord;
    this.tasks.push(record);
    this.touch();
    return record;
  }

  /** Give the per-device totals instead of summing them from the intervals. */
  setComponents(components: DeviceEnergy[]): this {
    this.components = components.map((c) => ({ ...c }));
    this.refresh();
    return this;
  }

  /** Set fields of the run record (location, intensity, emissions_g, notes, ...). */
  update(fields: Partial<RunRecord>): this {
    this.record = { ...this.record, ...fields };
    this.touch();
    return this;
  }

  private touch(): void {
    this.record.updated_at = Math.max(now(), this.record.updated_at + 1e-6);
  }

  /** The per-device totals: given, else summed from the intervals (time-weighted power over the run's span). */
  totals(): DeviceEnergy[] {
    if (this.components) return this.components;
    const byDevice = new Map<string, DeviceEnergy & { abs: number }>();
    for (const i of this.intervals.values()) {
      const key = `${i.component}\u0000${i.device}`;
      const entry = byDevice.get(key) ?? { component: i.component, device: i.device, energy_j: 0, avg_power_w: 0, method: i.method, uncertainty_rel: 0, abs: 0 };
      entry.energy_j += i.energy_j;
      entry.abs += i.energy_j * i.uncertainty_rel; // one device's errors are correlated: they add linearly
      byDevice.set(key, entry);
    }
    const span = Math.max(0, ...[...this.intervals.values()].map((i) => i.end_offset_s));
    return [...byDevice.values()].map(({ abs, ...c }) => ({
      ...c, avg_power_w: span > 0 ? c.energy_j / span : 0, uncertainty_rel: c.energy_j > 0 ? abs / c.energy_j : 0,
    }));
  }

  private refresh(): void {
    this.stale = false;
    const totals = this.totals();
    const energy = totals.reduce((s, c) => s + c.energy_j, 0);
    // devices are independent: absolute uncertainties add in quadrature
    const abs = Math.sqrt(totals.reduce((s, c) => s + (c.energy_j * c.uncertainty_rel) ** 2, 0));
    const span = Math.max(0, ...[...this.intervals.values()].map((i) => i.end_offset_s));
    this.record = { ...this.record, energy_j: energy, energy_uncertainty_rel: energy > 0 ? abs / energy : 0,
      duration_s: Math.max(this.record.duration_s, span) };
    this.touch();
  }

  /** The run as it stands: the same RunDocument Python's client sends. */
  document(): RunDocument {
    if (this.stale) this.refresh();
    // Built field by field and cast: fields the schema gives defaults to (requests, ...) may be left out.
    const document = {
      run: { ...this.record }, components: this.totals(),
      intervals: [...this.intervals.values()].sort((a, b) => a.bucket - b.bucket || a.device.localeCompare(b.device)),
      tasks: [...this.tasks], requests: [], schema_version: 1,
    };
    return document as unknown as RunDocument;
  }

  /** Send the run as it stands; when the server cannot be reached (after the client's retries) or fails, the state
   * goes to the queue and `{outcome: "queued"}` is answered. A refusal (401, 403, 422) is thrown. */
  async send(): Promise<SendResult> {
    return sendOrQueue(this.client, this.queue, this.document());
  }

  /** End the run (`finished` unless told) and send it. */
  async finish(status: RunStatus = "finished", fields: Partial<RunRecord> = {}): Promise<SendResult> {
    if (this.stale) this.refresh();
    const ended = now();
    this.record = { ...this.record, ...fields, status, ended_at: ended,
      duration_s: Math.max(this.record.duration_s, ended - this.record.started_at) };
    this.touch();
    return this.send();
  }
}

/** Send one document, or queue it when the server cannot take it now. */
export async function sendOrQueue(client: WattprintClient | undefined, queue: OfflineQueue, document: RunDocument): Promise<SendResult> {
  if (!client) {
    await queue.put(document);
    return { outcome: "queued" };
  }
  try {
    await client.putRun(document);
    return { outcome: "sent" };
  } catch (error) {
    if (!isRetryable(error)) throw error;
    await queue.put(document);
    return { outcome: "queued", error };
  }
}

/** Start a run to send to `client` (or only to queue, without one). */
export function startRun(client: WattprintClient | undefined, options: RunOptions = {}): RunBuilder {
  return new RunBuilder(client, options);
}

export interface FlushResult {
  sent: string[];
  left: string[];
  rejected: { runId: string; error: unknown }[];
}

/** Send every queued document, oldest state first; sent ones leave the queue, refused ones stay, with their error. */
export async function flushQueue(client: WattprintClient, queue: OfflineQueue): Promise<FlushResult> {
  const result: FlushResult = { sent: [], left: [], rejected: [] };
  const documents = (await queue.list()).sort((a, b) => a.run.updated_at - b.run.updated_at);
  for (const document of documents) {
    const runId = document.run.run_id;
    try {
      await client.putRun(document);
      await queue.remove(runId);
      result.sent.push(runId);
    } catch (error) {
      if (isRetryable(error)) result.left.push(runId);
      else result.rejected.push({ runId, error });
    }
  }
  return result;
}
