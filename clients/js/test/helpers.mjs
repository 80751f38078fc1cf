// What every test reads: the real server the Python test started (WATTPRINT_TEST_URL, its admin token).
import assert from "node:assert/strict";

export const url = process.env.WATTPRINT_TEST_URL;
export const adminToken = process.env.WATTPRINT_TEST_TOKEN;
export const skip = url ? false : "WATTPRINT_TEST_URL is not set (tests/js/test_js_client.py starts a server and sets it)";

/** A port where nothing listens: the server the test stopped, or one never started. */
export const downUrl = process.env.WATTPRINT_TEST_DOWN_URL ?? "http://127.0.0.1:9";

export function interval(bucket, device, energy_j, extra = {}) {
  return {
    bucket, start_offset_s: bucket * 10, end_offset_s: bucket * 10 + 10, component: "cpu", device, energy_j,
    avg_power_w: energy_j / 10, method: "model", uncertainty_rel: 0.4, ...extra,
  };
}

export async function rejects(promise, check) {
  await assert.rejects(promise, check);
}
