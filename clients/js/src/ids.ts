/** Client-made ids: a run id is 32 random hex digits (as Python's `uuid4().hex`), so a retry never duplicates a run. */
export function newRunId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
