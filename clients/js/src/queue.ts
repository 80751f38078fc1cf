/** The offline queue: run documents the server could not take yet, kept by run id (a newer state of a run replaces
 * the older one) and sent later. In memory, in IndexedDB (browsers); a file in Node (`@wattprint/client/node`). */
import type { RunDocument } from "./types.js";

/** Where unsent documents wait. Keyed by run id; `put` keeps the newest state of a run (by `run.updated_at`). */
export interface OfflineQueue {
  put(document: RunDocument): Promise<void>;
  list(): Promise<RunDocument[]>;
  remove(runId: string): Promise<void>;
}

/** Merge a newer state of a run into a queued one: the newer run record and totals, every interval and task of both
 * (intervals by bucket and device, tasks by seq), as the server itself merges them. */
export function mergeDocuments(older: RunDocument | undefined, newer: RunDocument): RunDocument {
  if (!older) return newer;
  const [first, second] = older.run.updated_at > newer.run.updated_at ? [newer, older] : [older, newer];
  const intervals = new Map<string, NonNullable<RunDocument["intervals"]>[number]>();
  for (const i of [...(first.intervals ?? []), ...(second.intervals ?? [])]) intervals.set(`${i.bucket}\u0000${i.device}`, i);
  const tasks = new Map<number, NonNullable<RunDocument["tasks"]>[number]>();
  for (const t of [...(first.tasks ?? []), ...(second.tasks ?? [])]) tasks.set(t.seq, t);
  return { ...second, intervals: [...intervals.values()], tasks: [...tasks.values()] };
}

/** A queue in memory: lost when the process ends (use `FileQueue` in Node or `IndexedDbQueue` in browsers). */
export class MemoryQueue implements OfflineQueue {
  private readonly items = new Map<string, RunDocument>();
  async put(document: RunDocument): Promise<void> {
    this.items.set(document.run.run_id, mergeDocuments(this.items.get(document.run.run_id), document));
  }
  async list(): Promise<RunDocument[]> {
    return [...this.items.values()];
  }
  async remove(runId: string): Promise<void> {
    this.items.delete(runId);
  }
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** A queue in the browser's IndexedDB (database `name`, store `runs`): survives reloads of the page. */
export class IndexedDbQueue implements OfflineQueue {
  private db?: Promise<IDBDatabase>;
  constructor(readonly name = "wattprint-outbox") {}

  private open(): Promise<IDBDatabase> {
    if (!this.db) {
      if (typeof indexedDB === "undefined") throw new Error("IndexedDbQueue needs IndexedDB (a browser); in Node use FileQueue from @wattprint/client/node");
      const req = indexedDB.open(this.name, 1);
      req.onupgradeneeded = () => req.result.createObjectStore("runs");
      this.db = request(req);
    }
    return this.db;
  }

  private async store(mode: IDBTransactionMode): Promise<IDBObjectStore> {
    return (await this.open()).transaction("runs", mode).objectStore("runs");
  }

  /** Read and write in one transaction, so two puts of one run never lose either's intervals. */
  async put(document: RunDocument): Promise<void> {
    const store = await this.store("readwrite");
    await new Promise<void>((resolve, reject) => {
      const read = store.get(document.run.run_id);
      read.onerror = () => reject(read.error);
      read.onsuccess = () => {
        const write = store.put(mergeDocuments(read.result as RunDocument | undefined, document), document.run.run_id);
        write.onerror = () => reject(write.error);
        store.transaction.oncomplete = () => resolve();
        store.transaction.onerror = () => reject(store.transaction.error);
      };
    });
  }
  async list(): Promise<RunDocument[]> {
    return (await request((await this.store("readonly")).getAll())) as RunDocument[];
  }
  async remove(runId: string): Promise<void> {
    await request((await this.store("readwrite")).delete(runId));
  }
}
