/** @wattprint/client: the wattprint team server's typed client, ingest with an offline queue, the calculator and
 * CodeCarbon interop, for Node >= 20 and browsers. Node-only parts (a file queue, `track`) are in `@wattprint/client/node`. */
export { WattprintClient, seriesOf, type ClientOptions, type DeviceSeries } from "./client.js";
export { ArgumentError, NetworkError, ProblemError, isRetryable, type FieldError, type ProblemDetails } from "./errors.js";
export { newRunId } from "./ids.js";
export { RunBuilder, flushQueue, sendOrQueue, startRun, type FlushResult, type IntervalInput, type RunOptions, type RunStatus, type SendResult } from "./ingest.js";
export { IndexedDbQueue, MemoryQueue, mergeDocuments, type OfflineQueue } from "./queue.js";
export type * from "./types.js";
export { VERSION } from "./version.js";
