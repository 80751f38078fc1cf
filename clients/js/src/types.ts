/** The wire format's records and the API's answers, named from the types generated off the committed OpenAPI schema
 * (src/generated/openapi.ts, `npm run generate`). */
import type { components, operations } from "./generated/openapi.js";

type Schemas = components["schemas"];
export type RunRecord = Schemas["RunRecord"];
export type RunDocument = Schemas["RunDocument"];
export type IntervalRecord = Schemas["IntervalRecord"];
export type TaskRecord = Schemas["TaskRecord"];
export type DeviceEnergy = Schemas["DeviceEnergy"];
/** The wire format's `ComponentRecord` is `DeviceEnergy`. */
export type ComponentRecord = DeviceEnergy;
export type RunExtra = Schemas["RunExtra"];
export type RequestRecord = Schemas["RequestRecord"];
export type IntensityRecord = Schemas["IntensityRecord"];

type Ok<O extends keyof operations> = operations[O] extends { responses: { 200: { content: { "application/json": infer B } } } } ? B : never;
type Query<O extends keyof operations> = operations[O] extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

export type Health = Ok<"health">;
export type PutRunResult = Ok<"put_run">;
export type RunPage = Ok<"list_runs">;
export type ListRunsQuery = Query<"list_runs">;
export type ProjectList = Ok<"list_projects">;
export type ProjectTotals = ProjectList["items"][number];
export type ProjectSummary = Ok<"project_summary">;
export type SummaryBy = "day" | "week" | "month" | "user" | "host" | "location" | "hardware";
export type TokenList = Ok<"list_tokens">;
export type TokenScope = "ingest" | "read" | "admin";
/** What the server answers for the calculator, re-pricing and duplicates: JSON objects (their keys: docs/estimate.md). */
export type JsonObject = Record<string, unknown>;
