// Helpers for the agent's end-to-end tests: run an agent until it is in sync, read a tree's files for
// comparing it with a restored one, read a store's latest files, and serve a store for a test.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as Agent from "../../adapters/agent/Agent.ts";
import * as Server from "../../adapters/server/Server.ts";
import { sha256 } from "../../adapters/Sha256.ts";
import type { SourceId } from "../../core/Codecs.ts";
import * as Store from "../../store/Store.ts";

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

/** The files of a source's latest tree in a store: path → size (empty before its first event). */
export const storedFiles = async (store: Store.Store, source: string): Promise<Record<string, number>> => {
  const out: Record<string, number> = {};
  const head = await store.head(source);
  if (head !== undefined) for await (const v of store.treeAsOf(source, head.seq)) if (v.meta?.type === "file") out[v.path] = v.meta.size;
  return out;
};

/** Waits until `done` holds, checking every 20 ms for at most `ms`. */
export const eventually = async (done: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await done()) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
};

/** What `withServedTree` gives a test: a tree under `work`, a store on disk served on 127.0.0.1, and both logs. */
export interface Served {
  readonly work: string;
  readonly root: string;
  readonly store: Store.Store;
  readonly server: Server.Running;
  readonly lines: Array<string>;
}

/**
 * Runs `body` with a tree holding one file `a`, a store on disk (wrapped by `wrap`, to make it fail)
 * behind a server whose log lines go to `lines` as `store: …`; everything is removed afterwards.
 */
export const withServedTree = async (wrap: (store: Store.Store) => Store.Store, body: (s: Served) => Promise<void>): Promise<void> => {
  const work = await mkdtemp(join(tmpdir(), "tidemark-served-"));
  const root = join(work, "tree");
  await mkdir(root);
  await writeFile(join(root, "a"), "alpha");
  const store = await Store.openClassic(join(work, "store"), { hash: sha256 });
  const lines: Array<string> = [];
  const server = await Server.start({ store: wrap(store), secret: null, listen: { host: "127.0.0.1", port: 0 }, log: (l) => lines.push(`store: ${l}`) });
  try {
    await body({ work, root, store, server, lines });
  } finally {
    await server.stop();
    await store.close();
    await rm(work, { recursive: true, force: true });
  }
};
