/** A typed client for the wattprint team server's API v1 (docs/server.md): runs, projects, summaries, duplicates,
 * re-pricing, the calculator and tokens. Works wherever `fetch` does (Node >= 20, browsers). */
import { ArgumentError, NetworkError, ProblemError, type ProblemDetails, isRetryable } from "./errors.js";
import type {
  Health, JsonObject, ListRunsQuery, ProjectList, ProjectSummary, PutRunResult, RunDocument, RunPage, RunRecord,
  SummaryBy, TokenList, TokenScope,
} from "./types.js";

export interface ClientOptions {
  /** The server's base URL, such as `http://127.0.0.1:8000` (the API is under `/api/v1`). */
  url: string;
  /** A token `wp_<id>_<secret>` (docs/server.md); none is needed on a server bound to loopback. */
  token?: string;
  /** Tries of a request that failed on the network or with 5xx/429, the first included (default 3). */
  retries?: number;
  /** The pause before the second try, doubled for each next one (default 250 ms), never above `maxBackoffMs`. */
  backoffMs?: number;
  /** The longest pause between two tries (default 5000 ms). */
  maxBackoffMs?: number;
  /** One try's limit (default 10000 ms). */
  timeoutMs?: number;
  /** Another `fetch` (tests, proxies). */
  fetch?: typeof fetch;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const RUN_ID = /^[0-9a-f]{32}$/;

function query(params: Record<string, unknown> | undefined): string {
  if (!params) return "";
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    for (const item of Array.isArray(value) ? value : [value]) search.append(key, String(item));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** One device's figures over a run: each interval bucket's span (seconds from the start), energy and average power. */
export interface DeviceSeries {
  component: string;
  device: string;
  method: string;
  points: { start_offset_s: number; end_offset_s: number; energy_j: number; avg_power_w: number; uncertainty_rel: number }[];
}

/** The series of a run document: its intervals grouped by device, in time order. */
export function seriesOf(document: RunDocument): DeviceSeries[] {
  const byDevice = new Map<string, DeviceSeries>();
  const intervals = [...(document.intervals ?? [])].sort((a, b) => a.start_offset_s - b.start_offset_s);
  for (const i of intervals) {
    const key = `${i.component}\u0000${i.device}`;
    const series = byDevice.get(key) ?? { component: i.component, device: i.device, method: i.method, points: [] };
    series.points.push({ start_offset_s: i.start_offset_s, end_offset_s: i.end_offset_s, energy_j: i.energy_j,
      avg_power_w: i.avg_power_w, uncertainty_rel: i.uncertainty_rel });
    byDevice.set(key, series);
  }
  return [...byDevice.values()];
}

/** The server's API v1; every method answers the server's JSON or throws a `ProblemError` / `NetworkError`. */
export class WattprintClient {
  readonly url: string;
  readonly token?: string;
  readonly retries: number;
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ClientOptions | string) {
    const opts = typeof options === "string" ? { url: options } : options;
    if (!opts || typeof opts.url !== "string" || !/^https?:\/\//.test(opts.url)) {
      throw new ArgumentError(`url must be the server's base URL such as "http://127.0.0.1:8000", got ${JSON.stringify(opts?.url)}`);
    }
    this.url = opts.url.replace(/\/+$/, "");
    this.token = opts.token;
    this.retries = Math.max(1, opts.retries ?? 3);
    this.backoffMs = opts.backoffMs ?? 250;
    this.maxBackoffMs = opts.maxBackoffMs ?? 5000;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.fetchImpl = opts.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** One request to `/api/v1<path>`, tried again with backoff while the server cannot be reached or fails. */
  async request<T>(method: string, path: string, body?: unknown, as: "json" | "text" = "json"): Promise<T> {
    const url = `${this.url}/api/v1${path}`;
    let last: unknown;
    for (let attempt = 0; attempt < this.retries; attempt++) {
      if (attempt > 0) await sleep(Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (attempt - 1)));
      try {
        return await this.once<T>(method, url, body, as);
      } catch (error) {
        last = error;
        if (!isRetryable(error)) throw error;
      }
    }
    throw last;
  }

  private async once<T>(method: string, url: string, body: unknown, as: "json" | "text"): Promise<T> {
    const headers: Record<string, string> = { Accept: as === "json" ? "application/json" : "*/*" };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new NetworkError(`${method} ${url} failed: the server could not be reached (${(error as Error)?.message ?? error}); check the url and that the server runs`, error);
    }
    const text = await response.text();
    if (response.ok && as === "text") return text as T;
    let data: unknown = undefined;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      data = undefined;
    }
    if (!response.ok) {
      const problem: ProblemDetails = data && typeof data === "object" && "status" in (data as object)
        ? (data as ProblemDetails)
        : { type: "about:blank", title: response.statusText || "Error", status: response.status, detail: text.slice(0, 500) };
      throw new ProblemError(problem, method, url);
    }
    return data as T;
  }

  // -- runs ---------------------------------------------------------------------------------------------------

  /** `GET /health`: the server's status, version and schema version. */
  health(): Promise<Health> {
    return this.request("GET", "/health");
  }

  /** `PUT /runs/{run_id}`: send a whole run; idempotent (sending it again changes nothing). */
  putRun(document: RunDocument): Promise<PutRunResult> {
    const runId = document?.run?.run_id;
    if (typeof runId !== "string" || !RUN_ID.test(runId)) {
      throw new ArgumentError(`document.run.run_id must be 32 lowercase hex digits (newRunId() makes one), got ${JSON.stringify(runId)}`);
    }
    return this.request("PUT", `/runs/${runId}`, document);
  }

  /** `GET /runs`: one page of runs (filters `project`, `user`, `host`, `status`, `since`, `until`; `sort`, `limit`, `cursor`). */
  listRuns(filters: ListRunsQuery = {}): Promise<RunPage> {
    return this.request("GET", `/runs${query(filters as Record<string, unknown>)}`);
  }

  /** Every run matching `filters`, page after page (`limit` is the page size), as an async iterator. */
  async *runs(filters: Omit<ListRunsQuery, "cursor"> = {}): AsyncGenerator<RunRecord, void, undefined> {
    let cursor: string | null | undefined = undefined;
    do {
      const page: RunPage = await this.listRuns({ ...filters, cursor });
      for (const item of page.items) yield item;
      cursor = page.next_cursor;
    } while (cursor);
  }

  /** `GET /runs/{run_id}`: one run with its components, intervals and tasks (a unique prefix of 4+ hex digits works). */
  run(runId: string): Promise<RunDocument> {
    return this.request("GET", `/runs/${encodeURIComponent(runId)}`);
  }

  /** A run's power and energy over time, per device, from its interval buckets (for charts). */
  async series(runId: string): Promise<DeviceSeries[]> {
    return seriesOf(await this.run(runId));
  }

  /** `GET /runs/{run_id}/reprice`: the run's measured IT energy priced at other locations (every cloud region without any). */
  reprice(runId: string, locations: string[] = []): Promise<JsonObject> {
    return this.request("GET", `/runs/${encodeURIComponent(runId)}/reprice${query({ location: locations })}`);
  }

  // -- projects -----------------------------------------------------------------------------------------------

  /** `GET /projects`: every project with its totals. */
  projects(): Promise<ProjectList> {
    return this.request("GET", "/projects");
  }

  /** `GET /projects/{name}/summary?by=`: a project's totals grouped by day, week, month, user, host, location or hardware. */
  summary(project: string, by: SummaryBy = "day"): Promise<ProjectSummary> {
    return this.request("GET", `/projects/${encodeURIComponent(project)}/summary${query({ by })}`);
  }

  /** `GET /projects/{name}/duplicates`: repeated trainings (one config fingerprint) and what the repeats cost. */
  duplicates(project: string): Promise<JsonObject> {
    return this.request("GET", `/projects/${encodeURIComponent(project)}/duplicates`);
  }

  // -- the calculator -----------------------------------------------------------------------------------------

  /** `GET /regions?q=`: locations and cloud regions with their intensity and its source. */
  regions(q?: string, limit?: number): Promise<JsonObject> {
    return this.request("GET", `/regions${query({ q, limit })}`);
  }

  /** `POST /estimate`: a job estimated without running it (the keywords of Python's `wattprint.plan.estimate`). */
  estimate(input: Record<string, unknown>): Promise<JsonObject> {
    return this.request("POST", "/estimate", input);
  }

  /** `POST /compare-regions`: IT energy (or `{estimate: {...}}`) priced in many regions. */
  compareRegions(input: Record<string, unknown>): Promise<JsonObject> {
    return this.request("POST", "/compare-regions", input);
  }

  // -- run groups (distributed runs) --------------------------------------------------------------------------

  /** `GET /groups/{group_id}`: a run group (a distributed run's ranks and nodes) with its totals. */
  group(groupId: string): Promise<JsonObject> {
    return this.request("GET", `/groups/${encodeURIComponent(groupId)}`);
  }

  /** `GET /groups/{group_id}/report`: a run group's report as text. */
  groupReport(groupId: string, options: { format?: string } = {}): Promise<string> {
    return this.request("GET", `/groups/${encodeURIComponent(groupId)}/report${query({ ...options, download: false })}`, undefined, "text");
  }

  // -- reports (the dashboard's API) -------------------------------------------------------------------------

  /** `GET /report-formats`: the report formats the server can write. */
  reportFormats(): Promise<JsonObject> {
    return this.request("GET", "/report-formats");
  }

  /** `GET /runs/{run_id}/report`: a run's report as text (`md` by default; see `reportFormats()`). */
  runReport(runId: string, options: { format?: string; training_type?: string } = {}): Promise<string> {
    return this.request("GET", `/runs/${encodeURIComponent(runId)}/report${query({ ...options, download: false })}`, undefined, "text");
  }

  /** `GET /projects/{name}/report`: a project's report as text. */
  projectReport(project: string, options: { format?: string } = {}): Promise<string> {
    return this.request("GET", `/projects/${encodeURIComponent(project)}/report${query({ ...options, download: false })}`, undefined, "text");
  }

  /** `GET /runs/{run_id}/summary`: a run summarised for people (figures with their method and uncertainty). */
  runSummary(runId: string): Promise<JsonObject> {
    return this.request("GET", `/runs/${encodeURIComponent(runId)}/summary`);
  }

  /** `GET /runs/{run_id}/paper`: the paragraph for a paper and the model-card block. */
  runPaper(runId: string): Promise<JsonObject> {
    return this.request("GET", `/runs/${encodeURIComponent(runId)}/paper`);
  }

  /** `GET /compare?run=...`: two or more runs side by side, the first the baseline. */
  compareRuns(runIds: string[], options: { repetitions?: boolean } = {}): Promise<JsonObject> {
    if (!Array.isArray(runIds) || runIds.length < 2) throw new ArgumentError(`compareRuns needs two or more run ids (the first is the baseline), got ${JSON.stringify(runIds)}`);
    return this.request("GET", `/compare${query({ run: runIds, ...options })}`);
  }

  /** `GET /badges`: the badge URLs of a project or a run. */
  badges(of: { project?: string; run?: string }): Promise<JsonObject> {
    return this.request("GET", `/badges${query(of)}`);
  }

  // -- tokens (admin) -----------------------------------------------------------------------------------------

  tokens(): Promise<TokenList> {
    return this.request("GET", "/tokens");
  }

  /** Make a token; the answer holds the token itself, once. */
  createToken(scope: TokenScope, options: { project?: string; name?: string } = {}): Promise<JsonObject & { token: string; token_id: string }> {
    return this.request("POST", "/tokens", { scope, ...options });
  }

  revokeToken(tokenId: string): Promise<JsonObject> {
    return this.request("DELETE", `/tokens/${encodeURIComponent(tokenId)}`);
  }
}
