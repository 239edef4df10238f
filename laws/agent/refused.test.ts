// Appends the store will not take, end to end over TCP into a store on disk. A spooled event the
// store refuses (it names a version of an item the store does not hold) makes the agent drop its
// spool and compare the tree, not replay the same refused events forever; so does a refusal that
// comes while the agent waits on nothing (a live change's batch, sent and not awaited): the agent
// says the store refused an append, not merely that the connection closed. A store that fails under
// the agent (its disk full or failing) says so, and the agent keeps its events and tries again after
// a wait, instead of reconnecting and resending at once, for ever; so does an agent whose appends
// the store refuses again and again.
import * as E from "fp-ts/lib/Either.js";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Agent from "../../adapters/agent/Agent.ts";
import * as Spool from "../../adapters/agent/Spool.ts";
import type { SourceId } from "../../core/Codecs.ts";
import type { Digest } from "../../core/Digest.ts";
import type * as Event from "../../core/Event.ts";
import type { ItemPath } from "../../core/ItemPath.ts";
import type * as Store from "../../store/Store.ts";
import { eventually, type Served, storedFiles, syncOnce, withServedTree } from "./syncing.ts";

const source = "refused" as SourceId;

/** Runs an agent on the served tree (no watcher, the periodic scan an hour away) for the body's length. */
const withAgent = async (s: Served, body: (agent: Agent.Running) => Promise<void>): Promise<void> => {
  const agent = await Agent.start({ root: s.root, source, store: s.server.address, secret: null, spoolDir: join(s.work, "spool"), watch: false, scanIntervalMs: 3_600_000, log: (l) => s.lines.push(l) });
  try {
    await body(agent);
  } finally {
    await agent.stop();
  }
};

/** A store whose appends go to `intercept` first: a promise it returns stands, undefined passes the append on. */
const intercepting = (intercept: (source: string, events: ReadonlyArray<unknown>) => ReturnType<Store.Store["append"]> | undefined) => (store: Store.Store): Store.Store => ({
  ...store,
  append: (src, events) => intercept(src, events) ?? store.append(src, events),
});

/** Waits until the store's latest files are `want` and the agent has nothing unacknowledged, in backup. */
const settled = (s: Served, agent: Agent.Running, want: Record<string, number>) =>
  eventually(async () => {
    const p = agent.progress();
    return JSON.stringify(await storedFiles(s.store, source)) === JSON.stringify(want) && p.unacknowledged === 0 && p.state === "backup";
  });

test("a spooled event the store refuses sends the agent to a full comparison, which converges", () =>
  withServedTree((store) => store, async (s) => {
    await syncOnce(s.root, s.server.address, join(s.work, "spool"), source);
    const head = (await s.store.head(source))!.seq;
    // The next event in the spool deletes a version of "ghost" the store never held.
    const spool = await Spool.open(join(s.work, "spool"), { source, root: s.root });
    const ghost: Event.Event = { _tag: "ItemDeleted", path: "ghost" as ItemPath, base: { type: "file", digest: "ab".repeat(32) as Digest }, origin: "live", source, seq: head + 1, at: Date.now() };
    spool.add([ghost]);
    await spool.write();
    await spool.close();
    await writeFile(join(s.root, "b"), "beta");
    await withAgent(s, async (agent) => {
      await settled(s, agent, { a: 5, b: 4 });
      assert.equal(await storedFiles(s.store, source), { a: 5, b: 4 }, s.lines.join("\n"));
      assert.is(agent.progress().unacknowledged, 0, s.lines.join("\n"));
      assert.is(s.lines.filter((l) => l.includes("refused (append)")).length, 1, s.lines.join("\n"));
      assert.ok(s.lines.some((l) => l.includes("the store refused an append")), s.lines.join("\n"));
    });
  }));

test("an append refused while the agent waits on nothing is reported as refused, and the agent converges after comparing", async () => {
  // The first append that carries "late" is refused, as a store refuses a stale base.
  let refuse = true;
  const refusing = intercepting((src, events) => {
    if (!(refuse && events.some((e) => (e as { path?: string }).path === "late"))) return undefined;
    refuse = false;
    return Promise.resolve(E.left({ _tag: "StaleBase", source: src, seq: 0, reason: "refused by the test" }));
  });
  await withServedTree(refusing, (s) =>
    withAgent(s, async (agent) => {
      await settled(s, agent, { a: 5 });
      assert.equal(await storedFiles(s.store, source), { a: 5 }, s.lines.join("\n"));
      await writeFile(join(s.root, "late"), "live change");
      agent.notify("late");
      await settled(s, agent, { a: 5, late: 11 });
      assert.equal(await storedFiles(s.store, source), { a: 5, late: 11 }, s.lines.join("\n"));
      assert.ok(s.lines.some((l) => l.includes("refused (append)")), s.lines.join("\n"));
      assert.ok(s.lines.some((l) => l.includes("the store refused an append")), s.lines.join("\n"));
    }));
});

test("an append the store will never take is compared again after a wait that doubles, not in a loop", async () => {
  const refusing = intercepting((_, events) =>
    events.some((e) => (e as { path?: string }).path === "bad") ? Promise.resolve(E.left({ _tag: "InvalidEvent", index: 0, reason: "refused by the test" })) : undefined);
  await withServedTree(refusing, async (s) => {
    await writeFile(join(s.root, "bad"), "never taken");
    await withAgent(s, async () => {
      await new Promise((r) => setTimeout(r, 3000));
      const refusals = s.lines.filter((l) => l.startsWith("the store refused an append")).length;
      assert.ok(refusals >= 2 && refusals <= 4, `${refusals} refusals in 3 s:\n${s.lines.join("\n")}`);
      assert.ok(s.lines.some((l) => l.endsWith("comparing everything again in 1 s")), s.lines.join("\n"));
    });
  });
});

test("a store whose writes fail says why; the agent waits before trying again, and converges once the store can write", async () => {
  let failing = true;
  const failingStore = intercepting(() => (failing ? Promise.reject(new Error("EIO: i/o error, write")) : undefined));
  await withServedTree(failingStore, (s) =>
    withAgent(s, async (agent) => {
      await new Promise((r) => setTimeout(r, 2000));
      const connects = s.lines.filter((l) => l.includes("connected to the store")).length;
      assert.ok(connects >= 2 && connects <= 3, `${connects} connections in 2 s of a failing store:\n${s.lines.join("\n")}`);
      assert.ok(s.lines.some((l) => l.includes("refused (store-failed): the store failed: EIO: i/o error, write")), s.lines.join("\n"));
      assert.ok(s.lines.some((l) => l.startsWith("the store failed: EIO: i/o error, write; the events stay in the spool, trying again in")), s.lines.join("\n"));
      failing = false;
      await settled(s, agent, { a: 5 });
      assert.equal(await storedFiles(s.store, source), { a: 5 }, s.lines.join("\n"));
      assert.is(agent.progress().unacknowledged, 0);
    }));
});

test.run();
