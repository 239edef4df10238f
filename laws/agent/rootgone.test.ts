// The protected directory itself removed, replaced or missing, with a real agent (watching with
// fs.watch, the periodic scan an hour away) and a real store over TCP: a directory removed and made
// again, or another moved into its place, is watched anew and compared within seconds; an agent
// that meets a missing directory leaves the store's last state alone and uploads the directory once
// it is back.
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Agent from "../../adapters/agent/Agent.ts";
import type { SourceId } from "../../core/Codecs.ts";
import type * as Store from "../../store/Store.ts";
import { eventually, type Served, storedFiles, withServedTree } from "./syncing.ts";

const source = "rooted" as SourceId;

/** Waits (at most `ms`) until the store's latest files are `want`; returns what they were last. */
const until = async (store: Store.Store, want: Record<string, number>, ms: number): Promise<Record<string, number>> => {
  await eventually(async () => JSON.stringify(await storedFiles(store, source)) === JSON.stringify(want), ms);
  return storedFiles(store, source);
};

/** Runs `body` on a served tree with a way to start agents on it (watching, the periodic scan an hour away), all stopped afterwards. */
const withAgents = (body: (s: Served, start: () => Promise<Agent.Running>) => Promise<void>): Promise<void> =>
  withServedTree((store) => store, async (s) => {
    const agents: Array<Agent.Running> = [];
    const start = async () => {
      const agent = await Agent.start({ root: s.root, source, store: s.server.address, secret: null, spoolDir: join(s.work, "spool"), scanIntervalMs: 3_600_000, log: (l) => s.lines.push(l) });
      agents.push(agent);
      return agent;
    };
    try {
      await body(s, start);
    } finally {
      for (const a of agents) await a.stop();
    }
  });

test("a protected directory removed and made again, then another moved into its place: each is watched anew and compared", () =>
  withAgents(async ({ work, root, store, lines }, start) => {
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
  withAgents(async ({ root, store, lines }, start) => {
    const first = await start();
    assert.equal(await until(store, { a: 5 }, 10_000), { a: 5 });
    await first.stop();
    await rm(root, { recursive: true });
    await start();
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(await storedFiles(store, source), { a: 5 }, "a missing directory is not every item deleted");
    assert.ok(lines.some((l) => l.includes("is gone")), lines.join("\n"));
    await mkdir(root);
    await writeFile(join(root, "new"), "new!");
    assert.equal(await until(store, { new: 4 }, 10_000), { new: 4 }, lines.join("\n"));
  }));

test.run();
