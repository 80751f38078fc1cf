/** The offline queue in a JSON file (Node): one object keyed by run id, rewritten atomically (a temporary file
 * renamed over it), so a crash never leaves half a queue. */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

import { mergeDocuments, type OfflineQueue } from "./queue.js";
import type { RunDocument } from "./types.js";

export class FileQueue implements OfflineQueue {
  private chain: Promise<unknown> = Promise.resolve();
  constructor(readonly path: string) {}

  private async read(): Promise<Record<string, RunDocument>> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
      throw error;
    }
    try {
      return JSON.parse(text) as Record<string, RunDocument>;
    } catch {
      throw new Error(`the offline queue ${this.path} is not valid JSON; move it aside to start a new queue`);
    }
  }

  private async write(items: Record<string, RunDocument>): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(items));
    await rename(temporary, this.path);
  }

  /** Run one read-change-write at a time, so concurrent puts in one process lose nothing. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.chain.then(work, work);
    this.chain = next.catch(() => undefined);
    return next;
  }

  put(document: RunDocument): Promise<void> {
    return this.serial(async () => {
      const items = await this.read();
      items[document.run.run_id] = mergeDocuments(items[document.run.run_id], document);
      await this.write(items);
    });
  }

  list(): Promise<RunDocument[]> {
    return this.serial(async () => Object.values(await this.read()));
  }

  remove(runId: string): Promise<void> {
    return this.serial(async () => {
      const items = await this.read();
      if (!(runId in items)) return;
      delete items[runId];
      await this.write(items);
    });
  }
}
