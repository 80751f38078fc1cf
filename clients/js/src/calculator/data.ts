/** The calculator's embedded tables (src/data/calculator-data.json, exported by scripts/build_data.py from the same
 * tables as the Python package, each row with its source and licence) and the look-ups over them. */
import raw from "../data/calculator-data.json" with { type: "json" };

type Table = { columns: string[]; rows: unknown[][] };

function rows<T>(table: Table): T[] {
  return table.rows.map((row) => Object.fromEntries(table.columns.map((c, i) => [c, row[i]])) as T);
}

export interface IntensityRow {
  key: string; kind: string; name: string; country: string | null; continent: string | null;
  intensity_g_per_kwh: number; year: number | null; basis: string; source: string; licence: string;
  aliases: string | null; provider: string | null; region: string | null; zone: string | null;
  grid_factor: string | null; cfe_fraction: number | null;
}
export interface GpuRow { key: string; name: string; kind: string; tdp_w: number; memory_gb: number | null; form: string | null; source: string; licence: string }
export interface CpuRow { key: string; name: string; tdp_w: number; cores: number | null; source: string; licence: string; note: string | null }
export interface EfficiencyRow { provider: string; metric: string; region: string | null; value: number; year: number | null; is_default: boolean; scope: string; confidence: string; source: string; licence: string }
export interface EquivalenceRow { key: string; g_co2e_per_unit: number; unit: string; vintage: string; status: string; source: string; licence: string }

const tables = (raw as unknown as { tables: Record<string, Table> }).tables;
/** ATTRIBUTION.md of the embedded data: every dataset, its version, licence and attribution. */
export const attribution: string = (raw as unknown as { attribution: string }).attribution;

let cache: {
  intensity: IntensityRow[]; byKey: Map<string, IntensityRow>; gpus: GpuRow[]; cpus: CpuRow[];
  efficiency: EfficiencyRow[]; equivalences: Map<string, EquivalenceRow>;
} | undefined;

export const CLOUD_PROVIDERS = new Set(["gcp", "aws", "azure", "ovh", "scaleway", "coreweave", "seeweb"]);
const PROVIDER_SYNONYMS: Record<string, string> = { google: "gcp", googlecloud: "gcp", gce: "gcp", amazon: "aws", ec2: "aws", microsoft: "azure", ovhcloud: "ovh" };

/** The case-insensitive form a location key or alias is indexed under (as Python's `canonical_location_key`). */
export function canonicalLocationKey(key: string): string {
  const s = key.trim();
  const colon = s.indexOf(":");
  if (colon < 0) return s.toLowerCase();
  let prefix = s.slice(0, colon).trim().toLowerCase();
  prefix = PROVIDER_SYNONYMS[prefix] ?? prefix;
  let rest = s.slice(colon + 1).trim();
  if (CLOUD_PROVIDERS.has(prefix)) rest = rest.replace(/[\s_]+/g, "");
  return `${prefix}:${rest.toLowerCase()}`;
}

export function data() {
  if (!cache) {
    const intensity = rows<IntensityRow>(tables.intensity);
    const byKey = new Map<string, IntensityRow>();
    for (const row of intensity) {
      for (const name of [row.key, ...(row.aliases ?? "").split(";").filter(Boolean)]) byKey.set(canonicalLocationKey(name), row);
    }
    cache = {
      intensity, byKey, gpus: rows<GpuRow>(tables.gpu), cpus: rows<CpuRow>(tables.cpu),
      efficiency: rows<EfficiencyRow>(tables.pue_wue),
      equivalences: new Map(rows<EquivalenceRow>(tables.equivalences).map((r) => [r.key, r])),
    };
  }
  return cache;
}

/** The intensity row of a location key or alias (`FR`, `FRA`, `US-CA`, `gcp:europe-west1`), or undefined. */
export function lookupIntensity(key: string): IntensityRow | undefined {
  if (!key || !key.trim()) return undefined;
  return data().byKey.get(canonicalLocationKey(key));
}

/** Every cloud-region row, optionally of one provider. */
export function cloudRegions(provider?: string): IntensityRow[] {
  const all = data().intensity.filter((r) => r.kind === "cloud-region");
  if (provider === undefined) return all;
  const wanted = canonicalLocationKey(`${provider}:x`).split(":")[0];
  return all.filter((r) => r.provider === wanted);
}

const PROVIDER_ALIASES: Record<string, string> = {
  google: "gcp", googlecloud: "gcp", gce: "gcp", amazon: "aws", microsoft: "azure", ovhcloud: "ovh", oci: "oracle",
  industry: "unknown", "on-premises": "unknown", "on-prem": "unknown", onprem: "unknown", local: "unknown", "": "unknown",
};
function providerKey(name: string | null | undefined): string {
  const key = (name ?? "").trim().toLowerCase().replace(/ /g, "");
  return PROVIDER_ALIASES[key] ?? key;
}

/** The PUE figure used for a provider (and region): regional default, else the provider's, else the industry's. */
export function defaultPue(provider: string | null | undefined, region: string | null | undefined): EfficiencyRow {
  const key = providerKey(provider);
  const pue = data().efficiency.filter((r) => r.metric === "PUE");
  if (region) {
    const wanted = region.trim().toLowerCase();
    const hit = pue.find((r) => r.provider === key && r.is_default && r.region && r.region.toLowerCase() === wanted);
    if (hit) return hit;
  }
  for (const wantedProvider of [key, "unknown"]) {
    const hit = pue.find((r) => r.provider === wantedProvider && r.is_default && r.region === null);
    if (hit) return hit;
  }
  throw new Error("the calculator's data has no default PUE; rebuild it with scripts/build_data.py");
}

/** The WUE figure used for a provider, or undefined (none is assumed where none is published). */
export function defaultWue(provider: string | null | undefined): EfficiencyRow | undefined {
  const key = providerKey(provider);
  return data().efficiency.find((r) => r.metric === "WUE" && r.provider === key && r.is_default && r.region === null);
}


const GPU_NOISE = new Set(["nvidia", "tesla", "geforce", "quadro", "amd", "radeon", "jetson", "gigabyte", "graphics", "gpu", "chip",
  "oc", "hbm", "hbm2", "hbm2e", "hbm3", "hbm3e", "gddr5", "gddr5x", "gddr6", "gddr6x"]);
const GPU_FORMS: Record<string, string> = { pcie: "pcie", nvl: "nvl", dgxs: "dgxs", sxm: "sxm" };

/** A GPU name split into model words, form factor and memory, as Python's `normalize_gpu_name`
 * (`'NVIDIA A100-SXM4-40GB'` -> base `a100`, form `sxm`, 40 GB). */
export function normalizeGpuName(name: string): { base: string; form: string | null; memory_gb: number | null } {
  let s = name.toLowerCase();
  s = s.replace(/\((?:r|tm)\)|[\u00ae\u2122]/g, " ");
  s = s.replace(/\bmig\b.*$/, " ");
  s = s.replace(/\b\d+\s*\/\s*\d+\s*gb\b/g, " ");
  let memory: number | null = null;
  const found = /\b(\d+)\s*gb\b/.exec(s);
  if (found) {
    memory = Number(found[1]);
    s = s.replace(/\b(\d+)\s*gb\b/g, " ");
  }
  s = s.replace(/\btpu\s*v?(\d)/g, "tpu v$1");
  s = s.replace(/\brx\s+(\d)/g, "rx$1");
  s = s.replace(/[-_/,()[\]]/g, " ");
  const base: string[] = [];
  let form: string | null = null;
  for (const token of s.split(/\s+/).filter(Boolean)) {
    if (GPU_NOISE.has(token)) continue;
    const stem = token.replace(/\d+$/, "");
    if (token in GPU_FORMS || (stem === "sxm" && token !== stem)) {
      form = GPU_FORMS[stem] ?? stem;
      continue;
    }
    base.push(token);
  }
  return { base: base.join(" "), form, memory_gb: memory };
}

let gpuIndex: Map<string, GpuRow[]> | undefined;

/** The GPU row of a name as NVML or a user writes it ("Tesla T4", "A100-SXM4-80GB"), by Python's rules: the model
 * words must match; the form factor, then the memory pick the variant; variants of different TDPs the name cannot
 * tell apart give undefined. */
export function lookupGpu(name: string): GpuRow | undefined {
  if (!name || !name.trim()) return undefined;
  if (!gpuIndex) {
    gpuIndex = new Map();
    for (const row of data().gpus) {
      const base = normalizeGpuName(row.name).base;
      gpuIndex.set(base, [...(gpuIndex.get(base) ?? []), row].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)));
    }
  }
  const query = normalizeGpuName(name);
  if (!query.base) return undefined;
  const candidates = gpuIndex.get(query.base) ?? [];
  if (!candidates.length) return undefined;
  let pool: GpuRow[];
  if (query.form) {
    pool = candidates.filter((c) => c.form === query.form);
    if (!pool.length) pool = candidates.filter((c) => c.form === null).length ? candidates.filter((c) => c.form === null) : candidates;
  } else {
    pool = candidates.filter((c) => c.form === null).length ? candidates.filter((c) => c.form === null) : candidates;
  }
  if (query.memory_gb !== null) {
    const same = pool.filter((c) => c.memory_gb === query.memory_gb);
    if (same.length) pool = same;
  }
  return pool.length && new Set(pool.map((p) => p.tdp_w)).size === 1 ? pool[0] : undefined;
}

// Phrases removed from CPU names before tokenising (Python's `normalize_cpu_name`; frequencies first).
const CPU_PATTERNS = [
  /\((?:r|tm|c)\)/g, /[\u00ae\u2122\u00a9]/g, /@\s*\d+(?:\.\d+)?\s*[gm]hz/g, /\b\d+(?:\.\d+)?\s*[gm]hz\b/g,
  /\(\s*\d+(?:\.\d+)?\s*w\s*\)/g, /\b\d+(?:st|nd|rd|th)\s+gen(?:eration)?\b/g,
  /\b(?:\d+|dual|triple|quad|hexa|six|octa|eight|ten|twelve|sixteen)[- ]cores?\b/g,
  /\bw(?:ith|\/)\s*radeon\b.*$/, /\bradeon\b.*$/, /\b\d+\s+compute\s+cores\b.*$/, /\bversion\b.*$/,
];
const CPU_NOISE = new Set(["intel", "amd", "apple", "genuine", "genuineintel", "authenticamd", "cpu", "processor", "apu", "soc", "0", "-"]);
const STATED_WATTS = /\(\s*(\d+(?:\.\d+)?)\s*W\s*\)/i;

/** The matching key of a CPU name: lower case, no trademarks, frequency, core count or vendor (Python's rules). */
export function normalizeCpuName(name: string): string {
  let s = name.toLowerCase();
  for (const pattern of CPU_PATTERNS) s = s.replace(pattern, " ");
  s = s.replace(/(-\d{4}[a-z]?)v(\d)\b/g, "$1 v$2");
  return s.split(/[\s,;()[\]]+/).map((t) => t.replace(/^-+|-+$/g, "")).filter((t) => t && !CPU_NOISE.has(t)).join(" ");
}

const modelTokens = (key: string) => key.split(" ").filter((t) => /\d/.test(t));

/** A CPU of the table (or stated in a name), with the TDPs other sources give it. */
export interface CpuSpec extends CpuRow { alternatives: { source: string; tdp_w: number }[] }

let cpuIndex: Map<string, { words: Set<string>; spec: CpuSpec }[]> | undefined;

function cpuSpec(row: CpuRow): CpuSpec {
  return { ...row, alternatives: [...(row.note ?? "").matchAll(OTHER_SOURCE)].map((m) => ({ source: m[1], tdp_w: Number(m[2]) })) };
}

function lookupTable(name: string): CpuSpec | undefined {
  if (!name || !name.trim()) return undefined;
  const key = normalizeCpuName(name);
  const models = modelTokens(key);
  if (!models.length) return undefined;
  if (!cpuIndex) {
    cpuIndex = new Map();
    for (const row of data().cpus) {
      const spec = cpuSpec(row);
      const rowModels = new Set(modelTokens(spec.key));
      const index = [...rowModels].sort().join(" ");
      const entries = cpuIndex.get(index) ?? [];
      entries.push({ words: new Set(spec.key.split(" ").filter((t) => !rowModels.has(t))), spec });
      cpuIndex.set(index, entries);
    }
    for (const entries of cpuIndex.values()) entries.sort((a, b) => (a.spec.key < b.spec.key ? -1 : a.spec.key > b.spec.key ? 1 : 0));
  }
  const candidates = cpuIndex.get([...new Set(models)].sort().join(" ")) ?? [];
  const exact = candidates.find((c) => c.spec.key === key);
  if (exact) return exact.spec;
  const modelSet = new Set(models);
  const words = new Set(key.split(" ").filter((t) => !modelSet.has(t)));
  if (!words.size) return undefined;
  let best: CpuSpec[] = [];
  let bestScore: [number, number] | undefined;
  for (const entry of candidates) {
    const shared = [...entry.words].filter((w) => words.has(w)).length;
    const subset = [...entry.words].every((w) => words.has(w)) || [...words].every((w) => entry.words.has(w));
    if (!shared || !subset) continue;
    const symmetric = [...entry.words].filter((w) => !words.has(w)).length + [...words].filter((w) => !entry.words.has(w)).length;
    const score: [number, number] = [shared, -symmetric];
    if (!bestScore || score[0] > bestScore[0] || (score[0] === bestScore[0] && score[1] > bestScore[1])) {
      best = [entry.spec];
      bestScore = score;
    } else if (score[0] === bestScore[0] && score[1] === bestScore[1]) best.push(entry.spec);
  }
  return best.length && new Set(best.map((b) => b.tdp_w)).size === 1 ? best[0] : undefined;
}

/** The CPU of a name as `/proc/cpuinfo` or a user writes it ("Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz"), by
 * Python's rules; a TDP stated in the name ("... (95W)") wins over the table's. */
export function lookupCpu(name: string): CpuSpec | undefined {
  if (typeof name !== "string") return undefined;
  const stated = STATED_WATTS.exec(name);
  if (!stated || !(Number(stated[1]) >= 1 && Number(stated[1]) <= 1000)) return lookupTable(name);
  const watts = Number(stated[1]);
  const row = lookupTable(name.slice(0, stated.index) + name.slice(stated.index + stated[0].length));
  return {
    key: normalizeCpuName(name), name: name.split(/\s+/).filter(Boolean).join(" "), tdp_w: watts, cores: row?.cores ?? null,
    source: "stated in the CPU's name", licence: "", note: null,
    alternatives: [...(row && row.tdp_w !== watts ? [{ source: row.source, tdp_w: row.tdp_w }] : []), ...(row?.alternatives ?? [])],
  };
}

const OTHER_SOURCE = /([A-Z][A-Za-z0-9 .&-]*?) gives (\d+(?:\.\d+)?) W/g;
/** `{source, tdp_w}` of each other source that gives a CPU another TDP (from the table's note). */
export function cpuAlternatives(row: CpuRow | CpuSpec): { source: string; tdp_w: number }[] {
  if ("alternatives" in row) return row.alternatives;
  return [...(row.note ?? "").matchAll(OTHER_SOURCE)].map((m) => ({ source: m[1], tdp_w: Number(m[2]) }));
}

export function equivalenceRow(key: string): EquivalenceRow {
  const row = data().equivalences.get(key);
  if (!row) throw new Error(`the calculator's data has no equivalence ${key}; rebuild it with scripts/build_data.py`);
  return row;
}
