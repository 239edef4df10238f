/**
 * Runs a test body in a fresh directory under the system's temp dir, removed afterwards whatever the
 * body does.
 *
 * @example
 * await inTempDir("tidemark-spool-", async (dir) => { … });
 *
 * @module
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const inTempDir = async (prefix: string, body: (dir: string) => Promise<void>): Promise<void> => {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};
