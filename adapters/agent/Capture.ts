/**
 * Capture — the application-aware capture API: a small file-system facade over a protected tree.
 * Each call performs the operation, then tells the agent exactly what changed (the path, and for
 * writes the byte ranges), so capture needs no watcher and no scan. `fsync` resolves once the change
 * is acknowledged by the store; `checkpoint` marks an application-consistent point after every change
 * made before it. Paths are relative to the protected root and may not leave it.
 *
 * @example
 * const agent = await Agent.start({ root, source, store, secret: null, spoolDir, watch: false });
 * const fs = Capture.make(agent, root);
 * await fs.writeFile("db/journal", bytes);
 * await fs.write("db/pages", page, 8192);    // reports the range 8192…8192+page.length
 * await fs.checkpoint("after-commit-42");
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import * as fs from "node:fs/promises";
import { join } from "node:path";
import * as ItemPath from "../../core/ItemPath.ts";
import type * as Agent from "./Agent.ts";

/** A path that would leave the protected root. */
export class OutsideRoot extends Error {}

/**
 * The facade for `agent`, protecting `root`.
 *
 * @category constructors
 */
export const make = (agent: Pick<Agent.Running, "notify" | "flush" | "checkpoint">, root: string) => {
  const resolve = (path: string): { readonly item: string; readonly full: string } => {
    const parsed = ItemPath.normalise(path);
    if (E.isLeft(parsed)) throw new OutsideRoot(`${JSON.stringify(path)}: ${ItemPath.describe(parsed.left)}`);
    return { item: parsed.right, full: join(root, ...parsed.right.split("/")) };
  };
  const changed = (path: string, ranges?: ReadonlyArray<{ readonly offset: number; readonly length: number }>) => agent.notify(path, ranges);

  return {
    /** Replaces a file's content. */
    writeFile: async (path: string, data: Uint8Array | string): Promise<void> => {
      const { item, full } = resolve(path);
      await fs.writeFile(full, data);
      changed(item);
    },
    /** Writes bytes at a position (pwrite); reports exactly that range. */
    write: async (path: string, data: Uint8Array, position: number): Promise<void> => {
      const { item, full } = resolve(path);
      const handle = await fs.open(full, "r+");
      try {
        await handle.write(data, 0, data.length, position);
      } finally {
        await handle.close();
      }
      changed(item, [{ offset: position, length: data.length }]);
    },
    /** Writes several buffers one after another from a position (pwritev). */
    writev: async (path: string, buffers: ReadonlyArray<Uint8Array>, position: number): Promise<void> => {
      const { item, full } = resolve(path);
      const handle = await fs.open(full, "r+");
      let length = 0;
      try {
        length = (await handle.writev([...buffers], position)).bytesWritten;
      } finally {
        await handle.close();
      }
      changed(item, [{ offset: position, length }]);
    },
    /** Appends to a file (creating it). */
    appendFile: async (path: string, data: Uint8Array | string): Promise<void> => {
      const { item, full } = resolve(path);
      await fs.appendFile(full, data);
      changed(item);
    },
    truncate: async (path: string, length = 0): Promise<void> => {
      const { item, full } = resolve(path);
      await fs.truncate(full, length);
      changed(item);
    },
    rename: async (from: string, to: string): Promise<void> => {
      const [a, b] = [resolve(from), resolve(to)];
      await fs.rename(a.full, b.full);
      changed(a.item);
      changed(b.item);
    },
    unlink: async (path: string): Promise<void> => {
      const { item, full } = resolve(path);
      await fs.unlink(full);
      changed(item);
    },
    mkdir: async (path: string): Promise<void> => {
      const { item, full } = resolve(path);
      await fs.mkdir(full, { recursive: true });
      changed(item);
    },
    /** Removes a file or a directory tree. */
    rm: async (path: string): Promise<void> => {
      const { item, full } = resolve(path);
      await fs.rm(full, { recursive: true, force: true });
      changed(item);
    },
    chmod: async (path: string, mode: number): Promise<void> => {
      const { item, full } = resolve(path);
      await fs.chmod(full, mode);
      changed(item);
    },
    symlink: async (target: string, path: string): Promise<void> => {
      const { item, full } = resolve(path);
      await fs.symlink(target, full);
      changed(item);
    },
    /** Resolves once every change made so far is durable in the store. */
    fsync: (): Promise<void> => agent.flush(),
    /** Marks an application-consistent checkpoint after every change made so far; resolves with its sequence number. */
    checkpoint: (label: string): Promise<number> => agent.checkpoint(label),
  };
};
