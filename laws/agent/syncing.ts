// Helpers for the agent's end-to-end tests: run an agent until it is in sync, and read a tree's files
// for comparing it with a restored one.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import * as Agent from "../../adapters/agent/Agent.ts";
import type { SourceId } from "../../core/Codecs.ts";

/** Runs an agent until it is in sync with everything acknowledged (at most 30 s); returns the content bytes it sent. */
export const syncOnce = async (root: string, address: string, spoolDir: string, source: SourceId): Promise<number> => {
  const agent = await Agent.start({ root, source, store: address, secret: null, spoolDir, watch: false, scanIntervalMs: 3_600_000 });
  const end = Date.now() + 30_000;
  try {
    for (;;) {
      const p = agent.progress();
      if (p.state === "backup" && p.pending === 0 && p.unacknowledged === 0) return p.bytesSent;
      if (Date.now() > end) throw new Error(`not in sync after 30 s: ${JSON.stringify(p)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    await agent.stop();
  }
};

/** Every file under `root` (relative path → content), for comparing trees. */
export const contents = async (root: string): Promise<Map<string, string>> => {
  const out = new Map<string, string>();
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    out.set(full.slice(root.length + 1), (await readFile(full)).toString("base64"));
  }
  return out;
};
