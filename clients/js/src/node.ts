/** The Node.js side of @wattprint/client: everything of the main entry, plus the file queue. */
export * from "./index.js";
export { FileQueue } from "./filequeue.js";
export { track, TrackedRun, type TrackOptions, type TrackResult } from "./track.js";
