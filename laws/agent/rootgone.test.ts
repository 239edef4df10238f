// The protected directory itself removed, replaced or missing, with a real agent (watching with
// fs.watch, the periodic scan an hour away) and a real store over TCP: a directory removed and made
// again, or another moved into its place, is watched anew and compared within seconds; an agent
// that meets a missing directory leaves the store's last state alone and uploads the directory once
// it is back.
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Agent from "../../adapters/agent/Agent.ts";
import * as Server from "../../adapters/server/Server.ts";
import { sha256 } from "../../adapters/Sha256.ts";
import type { SourceId } from "../../core/Codecs.ts";
import * as Store from "../../store/Store.ts";

const source = "rooted" as SourceId;

/** The files of the store's latest tree (path → size). */
const storedFiles = async (store: Store.Store): Promise<Record<string, number>> => {
  const head = await store.head(source);
  const out: Record<string, number> = {};
  if (head === undefined) return out;
  for await (const v of store.treeAsOf(source, head.seq)) if (v.meta?.type === "file") out[v.path] = v.meta.size;
  return out;
};

/** Waits (at most `ms`) until the store's latest files are `want`; returns what they were last. */
const until = async (store: Store.Store, want: Record<string, number>, ms: number): Promise<Record<string, number>> => {
  const end = Date.now() + ms;
  for (;;) {
    const now = await storedFiles(store);
    if (JSON.stringify(now) === JSON.stringify(want) || Date.now() > end) return now;
    await new Promise((r) => setTimeout(r, 50));
  }
};

const withAgentAndStore = async (body: (work: string, root: string, store: Store.Store, start: () => Promise<Agent.Running>, lines: Array<string>) => Promise<void>): Promise<void> => {
  const work = await mkdtemp(join(tmpdir(), "tidemark-root-"));
  const root = join(work, "tree");
  const store = await Store.openClassic(join(work, "store"), { hash: sha256 });
  const lines: Array<string> = [];
  const server = await Server.start({ store, secret: null, listen: { host: "127.0.0.1", port: 0 }, log: (l) => lines.push(`store: ${l}`) });
  const agents: Array<Agent.Running> = [];
  const start = async () => {
    const agent = await Agent.start({ root, source, store: server.address, secret: null, spoolDir: join(work, "spool"), scanIntervalMs: 3_600_000, log: (l) => lines.push(l) });
    agents.push(agent);
    return agent;
  };
  try {
    await body(work, root, store, start, lines);
  } finally {
    for (const a of agents) await a.stop();
    await server.stop();
    await store.close();
    await rm(work, { recursive: true, force: true });
  }
};

test("a protected directory removed and made again, then another moved into its place: each is watched anew and compared", () =>
  withAgentAndStore(async (work, root, store, start, lines) => {
    await mkdir(root);
    await writeFile(join(root, "a"), "first");
    await start();
    assert.equal(await until(store, { a: 5 }, 10_000), { a: 5 });
    await rm(root, { recursive: true });
    await mkdir(root);
    await writeFile(join(root, "b"), "second!");
    assert.equal(await until(store, { b: 7 }, 10_000), { b: 7 });
    assert.ok(lines.some((l) => l.endsWith(": comparing it with the store")), lines.join("\n"));
    // A change in the directory made again reaches the store by its watch (the scan is an hour away).
    await writeFile(join(root, "b2"), "watched");
    assert.equal(await until(store, { b: 7, b2: 7 }, 10_000), { b: 7, b2: 7 });
    const other = join(work, "other");
    await mkdir(other);
    await writeFile(join(other, "c"), "third");
    await rename(root, join(work, "old"));
    await rename(other, root);
    assert.equal(await until(store, { c: 5 }, 10_000), { c: 5 });
    await writeFile(join(root, "d"), "watched too");
    assert.equal(await until(store, { c: 5, d: 11 }, 10_000), { c: 5, d: 11 });
  }));

test("an agent that meets a missing directory leaves the store's last state alone, and uploads the directory once it is back", () =>
  withAgentAndStore(async (_work, root, store, start, lines) => {
    await mkdir(root);
    await writeFile(join(root, "kept"), "kept");
    const first = await start();
    assert.equal(await until(store, { kept: 4 }, 10_000), { kept: 4 });
    await first.stop();
    await rm(root, { recursive: true });
    await start();
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(await storedFiles(store), { kept: 4 }, "a missing directory is not every item deleted");
    assert.ok(lines.some((l) => l.includes("is gone")), lines.join("\n"));
    await mkdir(root);
    await writeFile(join(root, "new"), "new!");
    const got = await until(store, { new: 4 }, 10_000);
    for await (const e of store.log(source, 0)) lines.push(`log: ${JSON.stringify(e, (k, v) => (k === "bytes" ? undefined : v)).slice(0, 300)}`);
    assert.equal(got, { new: 4 }, lines.join("\n"));
  }));

test.run();
