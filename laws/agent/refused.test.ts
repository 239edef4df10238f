// Appends the store will not take, end to end over TCP into a store on disk. A spooled event the
// store refuses (it names a version of an item the store does not hold) makes the agent drop its
// spool and compare the tree, not replay the same refused events forever; so does a refusal that
// comes while the agent waits on nothing (a live change's batch, sent and not awaited): the agent
// says the store refused an append, not merely that the connection closed. A store that fails under
// the agent (its disk full or failing) says so, and the agent keeps its events and tries again after
// a wait, instead of reconnecting and resending at once, for ever.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as E from "fp-ts/lib/Either.js";
import * as Agent from "../../adapters/agent/Agent.ts";
import * as Server from "../../adapters/server/Server.ts";
import * as Spool from "../../adapters/agent/Spool.ts";
import { sha256 } from "../../adapters/Sha256.ts";
import type { SourceId } from "../../core/Codecs.ts";
import type { Digest } from "../../core/Digest.ts";
import type * as Event from "../../core/Event.ts";
import type { ItemPath } from "../../core/ItemPath.ts";
import * as Store from "../../store/Store.ts";
import { syncOnce } from "./syncing.ts";

const source = "refused" as SourceId;

test("a spooled event the store refuses sends the agent to a full comparison, which converges", async () => {
  const work = await mkdtemp(join(tmpdir(), "tidemark-refused-"));
  const root = join(work, "tree");
  const spoolDir = join(work, "spool");
  await mkdir(root);
  await writeFile(join(root, "a"), "alpha");
  const store = await Store.openClassic(join(work, "store"), { hash: sha256 });
  const lines: Array<string> = [];
  const server = await Server.start({ store, secret: null, listen: { host: "127.0.0.1", port: 0 }, log: (l) => lines.push(`store: ${l}`) });
  let agent: Agent.Running | undefined;
  try {
    await syncOnce(root, server.address, spoolDir, source);
    const head = (await store.head(source))!.seq;
    // The next event in the spool deletes a version of "ghost" the store never held.
    const spool = await Spool.open(spoolDir, { source, root });
    const ghost: Event.Event = { _tag: "ItemDeleted", path: "ghost" as ItemPath, base: { type: "file", digest: "ab".repeat(32) as Digest }, origin: "live", source, seq: head + 1, at: Date.now() };
    spool.add([ghost]);
    await spool.write();
    await spool.close();
    await writeFile(join(root, "b"), "beta");
    agent = await Agent.start({ root, source, store: server.address, secret: null, spoolDir, watch: false, scanIntervalMs: 3_600_000, log: (l) => lines.push(l) });
    const end = Date.now() + 15_000;
    const files = async () => {
      const out: Array<string> = [];
      const now = (await store.head(source))!.seq;
      for await (const v of store.treeAsOf(source, now)) if (v.meta?.type === "file") out.push(v.path);
      return out;
    };
    while (Date.now() < end && (JSON.stringify(await files()) !== JSON.stringify(["a", "b"]) || agent.progress().unacknowledged > 0)) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await files(), ["a", "b"], lines.join("\n"));
    assert.is(agent.progress().unacknowledged, 0, lines.join("\n"));
    assert.is(lines.filter((l) => l.includes("refused (append)")).length, 1, lines.join("\n"));
    assert.ok(lines.some((l) => l.includes("the store refused an append")), lines.join("\n"));
  } finally {
    await agent?.stop();
    await server.stop();
    await store.close();
    await rm(work, { recursive: true, force: true });
  }
});

test("an append refused while the agent waits on nothing is reported as refused, and the agent converges after comparing", async () => {
  const work = await mkdtemp(join(tmpdir(), "tidemark-refused-"));
  const root = join(work, "tree");
  await mkdir(root);
  await writeFile(join(root, "a"), "alpha");
  const store = await Store.openClassic(join(work, "store"), { hash: sha256 });
  // The first append that carries "late" is refused, as a store refuses a stale base.
  let refuse = true;
  const refusing: Store.Store = {
    ...store,
    append: async (s, events) => {
      if (!(refuse && events.some((e) => (e as { path?: string }).path === "late"))) return store.append(s, events);
      refuse = false;
      return E.left({ _tag: "StaleBase", source: s, seq: 0, reason: "refused by the test" });
    },
  };
  const lines: Array<string> = [];
  const server = await Server.start({ store: refusing, secret: null, listen: { host: "127.0.0.1", port: 0 }, log: (l) => lines.push(`store: ${l}`) });
  const agent = await Agent.start({ root, source, store: server.address, secret: null, spoolDir: join(work, "spool"), watch: false, scanIntervalMs: 3_600_000, log: (l) => lines.push(l) });
  const settled = async (want: ReadonlyArray<string>) => {
    const end = Date.now() + 15_000;
    const files = async () => {
      const out: Array<string> = [];
      const head = await store.head(source);
      if (head !== undefined) for await (const v of store.treeAsOf(source, head.seq)) if (v.meta?.type === "file") out.push(v.path);
      return out;
    };
    while (Date.now() < end && (JSON.stringify(await files()) !== JSON.stringify(want) || agent.progress().state !== "backup" || agent.progress().unacknowledged > 0)) await new Promise((r) => setTimeout(r, 20));
    return files();
  };
  try {
    assert.equal(await settled(["a"]), ["a"], lines.join("\n"));
    await writeFile(join(root, "late"), "live change");
    agent.notify("late");
    assert.equal(await settled(["a", "late"]), ["a", "late"], lines.join("\n"));
    assert.ok(lines.some((l) => l.includes("refused (append)")), lines.join("\n"));
    assert.ok(lines.some((l) => l.includes("the store refused an append")), lines.join("\n"));
  } finally {
    await agent.stop();
    await server.stop();
    await store.close();
    await rm(work, { recursive: true, force: true });
  }
});

test("a store whose writes fail says why; the agent waits before trying again, and converges once the store can write", async () => {
  const work = await mkdtemp(join(tmpdir(), "tidemark-refused-"));
  const root = join(work, "tree");
  await mkdir(root);
  await writeFile(join(root, "a"), "alpha");
  const store = await Store.openClassic(join(work, "store"), { hash: sha256 });
  let failing = true;
  const failingStore: Store.Store = {
    ...store,
    append: async (s, events) => {
      if (failing) throw new Error("EIO: i/o error, write");
      return store.append(s, events);
    },
  };
  const lines: Array<string> = [];
  const server = await Server.start({ store: failingStore, secret: null, listen: { host: "127.0.0.1", port: 0 }, log: (l) => lines.push(`store: ${l}`) });
  const agent = await Agent.start({ root, source, store: server.address, secret: null, spoolDir: join(work, "spool"), watch: false, scanIntervalMs: 3_600_000, log: (l) => lines.push(l) });
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const connects = lines.filter((l) => l.includes("connected to the store")).length;
    assert.ok(connects >= 2 && connects <= 3, `${connects} connections in 2 s of a failing store:\n${lines.join("\n")}`);
    assert.ok(lines.some((l) => l.includes("refused (store-failed): the store failed: EIO: i/o error, write")), lines.join("\n"));
    assert.ok(lines.some((l) => l.startsWith("the store failed: EIO: i/o error, write; the events stay in the spool, trying again in")), lines.join("\n"));
    failing = false;
    const end = Date.now() + 15_000;
    while (Date.now() < end && ((await store.head(source)) === undefined || agent.progress().unacknowledged > 0 || agent.progress().state !== "backup")) await new Promise((r) => setTimeout(r, 20));
    const files: Array<string> = [];
    for await (const v of store.treeAsOf(source, (await store.head(source))!.seq)) if (v.meta?.type === "file") files.push(v.path);
    assert.equal(files, ["a"], lines.join("\n"));
    assert.is(agent.progress().unacknowledged, 0);
  } finally {
    await agent.stop();
    await server.stop();
    await store.close();
    await rm(work, { recursive: true, force: true });
  }
});

test.run();
