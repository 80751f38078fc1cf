/** CodeCarbon interop: a CodeCarbon `emissions.csv` read into wattprint's records (the mapping of Python's
 * `wattprint.importers.codecarbon`: same run ids, components, uncertainties, location and carbon fields), and a
 * client that speaks CodeCarbon's API to a wattprint server (`/codecarbon`, docs/server.md). */
import { HOW_ARGUMENT, intensityUncertainty } from "./calculator/accounting.js";
import { type IntensityRow, data, lookupIntensity } from "./calculator/data.js";
import { ArgumentError, NetworkError, ProblemError, type ProblemDetails } from "./errors.js";
import type { DeviceEnergy, RunDocument, RunRecord } from "./types.js";
import { VERSION } from "./version.js";

const TOOL = "codecarbon";
const IMPORTED = "imported";
const UNKNOWN_HOST = "unknown (imported)";
const NAMESPACE = "5f1d0c7e-6a64-4c8e-9a57-7761747470e1";
const J_PER_KWH = 3.6e6;
/** CPU: RAPL or a TDP model, the file does not say which (40 %); GPU: NVML's energy counter (10 %); RAM: a model (50 %). */
export const CODECARBON_UNCERTAINTY = { cpu: 0.40, gpu: 0.10, ram: 0.50 } as const;
const INTENSITY_UNCERTAINTY_UNLISTED = 0.20;
const REQUIRED = ["timestamp", "run_id", "duration", "emissions", "cpu_energy", "gpu_energy", "ram_energy", "energy_consumed"];
const UNITS: Record<string, [string, number]> = {
  duration: ["s", 3.2e8], emissions: ["kg", 1e8], emissions_rate: ["kg", 1e8], cpu_energy: ["kWh", 1e8], gpu_energy: ["kWh", 1e8],
  ram_energy: ["kWh", 1e8], energy_consumed: ["kWh", 1e8], cpu_power: ["W", 1e7], gpu_power: ["W", 1e7], ram_power: ["W", 1e7],
  water_consumed: ["L", 1e10], cpu_count: ["count", 1e6], gpu_count: ["count", 1e6], ram_total_size: ["GB", 1e7], pue: ["PUE", 10], wue: ["L/kWh", 100],
};

/** A CodeCarbon file that cannot be read: names the file, line and field, and what is wrong. */
export class ImportFormatError extends Error {
  constructor(readonly file: string, message: string, readonly line?: number, readonly field?: string) {
    super(`${file}${line ? `, line ${line}` : ""}${field ? `, ${field}` : ""}: ${message}`);
    this.name = "ImportFormatError";
  }
}

/** RFC 4180 CSV: rows of fields with their 1-based line numbers (quoted fields may hold commas, quotes, newlines). */
function parseCsv(text: string): { line: number; values: string[] }[] {
  const rows: { line: number; values: string[] }[] = [];
  let field = "", values: string[] = [], quoted = false, line = 1, rowLine = 1, i = 0;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else { if (c === "\n") line++; field += c; }
    } else if (c === '"') quoted = true;
    else if (c === ",") { values.push(field); field = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      values.push(field); rows.push({ line: rowLine, values }); values = []; field = ""; line++; rowLine = line;
    } else field += c;
  }
  if (field !== "" || values.length) { values.push(field); rows.push({ line: rowLine, values }); }
  return rows;
}

function number(file: string, text: string | undefined, name: string, line: number, optional: boolean): number | null {
  if (text === undefined || !text.trim()) {
    if (optional) return null;
    throw new ImportFormatError(file, "is empty; a number is expected", line, name);
  }
  const value = Number(text.trim());
  if (Number.isNaN(value) && !/^[+-]?nan$/i.test(text.trim())) throw new ImportFormatError(file, `'${text.trim().slice(0, 40)}' is not a number`, line, name);
  if (!Number.isFinite(value)) throw new ImportFormatError(file, `'${text.trim().slice(0, 40)}' is not a finite number`, line, name);
  const minimum = name === "pue" ? 1 : 0;
  if (value < minimum) throw new ImportFormatError(file, `${value} is below ${minimum}`, line, name);
  const [unit, maximum] = UNITS[name];
  if (value > maximum) throw new ImportFormatError(file, `${value} ${unit} is above the largest plausible value (${maximum} ${unit}); the file is corrupt or the figure is in another unit: fix or remove that row`, line, name);
  return value;
}

function figures(file: string, line: number, row: Record<string, string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of Object.keys(UNITS)) {
    const value = number(file, row[name], name, line, !REQUIRED.includes(name) || name === "timestamp");
    out[name] = value ?? (name === "pue" ? 1 : name === "wue" ? NaN : 0);
  }
  timestamp(file, line, row.timestamp);
  return out;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** Unix seconds of CodeCarbon's timestamp: a time without a zone is this machine's local time (as Python reads it). */
function timestamp(file: string, line: number, text: string): number {
  const m = ISO.exec((text ?? "").trim());
  if (!m) throw new ImportFormatError(file, `'${(text ?? "").slice(0, 40)}' is not an ISO 8601 time`, line, "timestamp");
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((k) => Number(m[k] ?? 0));
  if (y < 1990 || y > 2100) throw new ImportFormatError(file, `'${text}' is not between 1990 and 2100`, line, "timestamp");
  const micro = Number((m[7] ?? "").padEnd(6, "0") || 0);
  let seconds: number;
  if (m[8]) {
    const sign = m[8] === "Z" ? 0 : m[8][0] === "-" ? -1 : 1;
    const digits = m[8].replace(/[^0-9]/g, "");
    const offset = m[8] === "Z" ? 0 : sign * (Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2)) * 60);
    seconds = Date.UTC(y, mo - 1, d, h, mi, s) / 1000 - offset;
  } else {
    seconds = new Date(y, mo - 1, d, h, mi, s).getTime() / 1000;
  }
  return seconds + micro / 1e6;
}

const text = (row: Record<string, string>, name: string): string | null => {
  const value = row[name]?.trim();
  return value && value.toLowerCase() !== "nan" ? value : null;
};

function location(row: Record<string, string>): [string | null, string | null, string, number] {
  const [onCloud, provider, region, iso3, state, countryName] = ["on_cloud", "cloud_provider", "cloud_region", "country_iso_code", "region", "country_name"].map((n) => text(row, n));
  const said = ([["cloud_provider", provider], ["cloud_region", region], ["country_iso_code", iso3], ["region", state]] as const)
    .filter(([, v]) => v).map(([k, v]) => `${k}=${v}`).join(", ");
  let record: IntensityRow | undefined;
  if ((onCloud ?? "N").toUpperCase() === "Y" && provider && region) record = lookupIntensity(`${provider}:${region}`);
  if (!record && iso3) {
    const country = lookupIntensity(iso3);
    if (country && state && country.country) {
      const wanted = state.toLowerCase();
      record = data().intensity.find((r) => r.country === country.country && (r.kind === "us-state" || r.kind === "ca-province") && r.name.toLowerCase() === wanted);
    }
    record = record ?? country;
  }
  if (!record) return [(provider && region ? `${provider}:${region}` : iso3) || null, countryName, said || "no location", INTENSITY_UNCERTAINTY_UNLISTED];
  return [record.key, record.name, said, intensityUncertainty(record, HOW_ARGUMENT)];
}

async function uuid5(name: string): Promise<string> {
  const ns = NAMESPACE.replace(/-/g, "");
  const bytes = new Uint8Array([...ns.match(/../g)!.map((h) => parseInt(h, 16)), ...new TextEncoder().encode(name)]);
  const hash = new Uint8Array(await globalThis.crypto.subtle.digest("SHA-1", bytes)).slice(0, 16);
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  return Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The runs of a CodeCarbon `emissions.csv` (its text): one RunDocument per CodeCarbon run (its row with the longest
 * duration: the rows hold running totals), with the run id Python's importer gives it, so either import updates the
 * same run. `file` names the file in errors and in the runs' provenance. */
export async function readCodecarbonCsv(csvText: string, file = "emissions.csv"): Promise<RunDocument[]> {
  const rows = parseCsv(csvText).filter((r) => r.values.some((v) => v.trim()));
  if (!rows.length) throw new ImportFormatError(file, "is empty; expected CodeCarbon's emissions.csv with a header row");
  const header = rows[0].values.map((h) => h.trim());
  const missing = REQUIRED.filter((n) => !header.includes(n));
  if (missing.length) throw new ImportFormatError(file, `lacks the column(s) ${missing.join(", ")}: not a CodeCarbon emissions.csv (its header starts ${header.slice(0, 4).join(", ")})`, 1);
  const latest = new Map<string, { line: number; row: Record<string, string>; duration: number; count: number }>();
  for (const { line, values } of rows.slice(1)) {
    if (values.length !== header.length) throw new ImportFormatError(file, `has ${values.length} fields where the header has ${header.length}`, line);
    const row = Object.fromEntries(header.map((h, i) => [h, values[i]]));
    const runId = row.run_id.trim();
    if (!runId) throw new ImportFormatError(file, "is empty; every row needs its run's id", line, "run_id");
    const f = figures(file, line, row);
    const kept = latest.get(runId);
    const count = (kept?.count ?? 0) + 1;
    if (!kept || f.duration >= kept.duration) latest.set(runId, { line, row, duration: f.duration, count });
    else kept.count = count;
  }
  if (!latest.size) throw new ImportFormatError(file, "has a header but no rows");
  const documents: RunDocument[] = [];
  for (const [ownId, { line, row, count }] of [...latest.entries()].sort((a, b) => a[1].line - b[1].line)) {
    documents.push(await toDocument(file, line, row, ownId, count));
  }
  return documents;
}

async function toDocument(file: string, line: number, row: Record<string, string>, ownId: string, rowsOfRun: number): Promise<RunDocument> {
  const f = figures(file, line, row);
  const ended = timestamp(file, line, row.timestamp);
  const { duration, pue } = f;
  const it = { cpu: f.cpu_energy / pue, gpu: f.gpu_energy / pue, ram: f.ram_energy / pue };
  const energyKwh = f.energy_consumed / pue;
  const notes = [`imported from CodeCarbon's ${file.split(/[\\/]/).pop()}, line ${line}`];
  const parts = f.cpu_energy + f.gpu_energy + f.ram_energy;
  if (Math.abs(parts - f.energy_consumed) > 1e-9 + 0.01 * f.energy_consumed) {
    notes.push(`cpu_energy + gpu_energy + ram_energy (${parts.toPrecision(6)} kWh) differ from energy_consumed (${f.energy_consumed.toPrecision(6)} kWh); the total is energy_consumed`);
  }
  let water: number | null = null;
  if (f.wue > 0) water = f.water_consumed;
  else notes.push("water not estimated: CodeCarbon's wue is " + (f.wue === 0 ? "0, its value for 'not set'" : "not in the file"));
  const components: DeviceEnergy[] = [];
  for (const component of ["cpu", "gpu", "ram"] as const) {
    if (component === "gpu" && it.gpu <= 0 && f.gpu_count <= 0) continue;
    const energy = it[component] * J_PER_KWH;
    components.push({ component, device: component, energy_j: energy,
      avg_power_w: duration > 0 ? energy / duration : f[`${component}_power`] / pue, method: IMPORTED, uncertainty_rel: CODECARBON_UNCERTAINTY[component] });
  }
  const energy = energyKwh * J_PER_KWH;
  const absolute = Math.sqrt(components.reduce((s, c) => s + (c.energy_j * c.uncertainty_rel) ** 2, 0));
  const energyU = energy > 0 ? absolute / energy : Math.max(...Object.values(CODECARBON_UNCERTAINTY));
  const [key, name, said, intensityU] = location(row);
  const emissions = f.emissions * 1000.0;
  const version = text(row, "codecarbon_version");
  const hardware: Record<string, unknown>[] = [{ component: "cpu", device: "cpu", model: text(row, "cpu_model"), source: TOOL, power_limit_w: null, detail: `cpu_count ${text(row, "cpu_count") ?? "?"} (from the file)` }];
  if (f.gpu_count > 0 || it.gpu > 0) hardware.push({ component: "gpu", device: "gpu", model: text(row, "gpu_model"), source: TOOL, power_limit_w: null, detail: `gpu_count ${f.gpu_count} (from the file)` });
  const ram = text(row, "ram_total_size");
  hardware.push({ component: "ram", device: "ram", model: ram && !Number.isNaN(Number(ram)) ? `${Number(Number(ram).toPrecision(3))} GB` : ram, source: TOOL, power_limit_w: null, detail: "ram_total_size (from the file)" });
  const run = {
    run_id: await uuid5(`${TOOL}:${ownId}`), project: text(row, "project_name"), name: `codecarbon ${ownId.slice(0, 8)}`, status: "finished",
    started_at: ended - duration, updated_at: ended, ended_at: ended, duration_s: duration, energy_j: energy, energy_uncertainty_rel: energyU,
    attribution: text(row, "tracking_mode") ?? "machine", hostname: UNKNOWN_HOST, username: UNKNOWN_HOST, pid: 0,
    wattprint_version: `@wattprint/client ${VERSION}`, command: null, exit_code: null, config_fingerprint: null, hardware, notes,
    location: key, how_located: `imported from codecarbon (${said})`, intensity_g_per_kwh: f.energy_consumed > 0 ? emissions / f.energy_consumed : null,
    intensity_zone: key, intensity_source: `CodeCarbon ${version ?? "(version not stated)"} data for ${name ?? key ?? "an unknown place"}`,
    intensity_year: new Date(ended * 1000).getFullYear(), intensity_kind: "average", intensity_uncertainty_rel: intensityU, pue,
    facility_energy_j: f.energy_consumed * J_PER_KWH, emissions_g: emissions, emissions_uncertainty_rel: Math.hypot(energyU, intensityU),
    water_l: water, embodied_g: null,
    extra: { imported_from: TOOL, tool_version: version, file, line, rows_of_run: rowsOfRun, source_run_id: ownId, source_fields: row,
      pue_source: `CodeCarbon's pue setting, as the file states (${pue})`, intensity_zone_name: name,
      intensity_year_source: "the year of the row's timestamp: CodeCarbon's data as it stood then",
      timestamp_zone: "CodeCarbon writes local time without a zone; read as this machine's local time",
      uncertainty_source: "assigned by wattprint: the file states none (docs/reports.md)" },
  } as unknown as RunRecord;
  return { run, components, intervals: [], tasks: [], requests: [], schema_version: 1 } as unknown as RunDocument;
}

export interface CodecarbonApiOptions {
  /** The server's base URL (`http://127.0.0.1:8000`); CodeCarbon's API is under `/codecarbon`. */
  url: string;
  /** A wattprint token, sent as CodeCarbon's `x-api-token`. */
  apiKey?: string;
  fetch?: typeof fetch;
}

/** CodeCarbon's API as its own client speaks it (projects, experiments, runs, emission reports), to a wattprint
 * server's `/codecarbon` endpoints: for tools written against CodeCarbon's API. */
export class CodecarbonApiClient {
  readonly url: string;
  private readonly apiKey?: string;
  private readonly fetchImpl: typeof fetch;

  constructor(options: CodecarbonApiOptions) {
    if (!options || !/^https?:\/\//.test(options.url ?? "")) throw new ArgumentError(`url must be the server's base URL such as "http://127.0.0.1:8000", got ${JSON.stringify(options?.url)}`);
    this.url = `${options.url.replace(/\/+$/, "")}/codecarbon`;
    this.apiKey = options.apiKey;
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = this.url + path;
    const headers: Record<string, string> = { Accept: "application/json" };
    if (this.apiKey) headers["x-api-token"] = this.apiKey;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response: Response;
    try {
      response = await this.fetchImpl(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (error) {
      throw new NetworkError(`${method} ${url} failed: the server could not be reached (${(error as Error)?.message ?? error})`, error);
    }
    const data = await response.json().catch(() => undefined);
    if (!response.ok) {
      const problem = (data && typeof data === "object" && "status" in data ? data : { type: "about:blank", title: response.statusText, status: response.status, detail: JSON.stringify(data) }) as ProblemDetails;
      throw new ProblemError(problem, method, url);
    }
    return data as T;
  }

  createProject(name: string, description = ""): Promise<{ id: string; name: string }> {
    return this.call("POST", "/projects", { name, description });
  }
  createExperiment(experiment: { name: string; project_id: string; description?: string; country_iso_code?: string; region?: string; on_cloud?: boolean; cloud_provider?: string; cloud_region?: string }): Promise<{ id: string }> {
    return this.call("POST", "/experiments", { description: "", ...experiment });
  }
  /** Start a run of an experiment; the answer's `id` names it in reports, `wattprint_run_id` in wattprint's API. */
  startRun(run: { experiment_id: string; timestamp?: string; cpu_count?: number; cpu_model?: string; gpu_count?: number; gpu_model?: string; ram_total_size?: number; tracking_mode?: string }): Promise<{ id: string; wattprint_run_id: string }> {
    return this.call("POST", "/runs", run);
  }
  /** One report: the figures since the previous report (kWh, kg, W, seconds), as CodeCarbon's client sends them. */
  addEmission(report: { run_id: string; timestamp: string; duration: number; emissions_sum: number; emissions_rate?: number; cpu_power?: number; gpu_power?: number; ram_power?: number; cpu_energy: number; gpu_energy: number; ram_energy: number; energy_consumed: number }): Promise<{ id: string }> {
    return this.call("POST", "/emissions", report);
  }
}
