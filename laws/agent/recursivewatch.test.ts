// Deno's recursive watch as `RecursiveWatch` reads it, through a stand-in for `Deno.watchFs` (the
// real one runs in the watch suite under Deno): what each kind of event means, an overflow, the
// root's watch made anew only after the old one is let go, and a watch that ends by itself made
// again a second later.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as RecursiveWatch from "../../adapters/agent/RecursiveWatch.ts";
import type { Shell } from "../../adapters/agent/Shell.ts";

/** A stand-in watch: yields what is pushed to it, ends when told to or closed. */
const standIn = () => {
  const queued: Array<RecursiveWatch.FsEvent | "end"> = [];
  let wake: (() => void) | undefined;
  let closed = false;
  const watcher: RecursiveWatch.FsWatcher = {
    close: () => {
      closed = true;
      wake?.();
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        while (queued.length === 0 && !closed) await new Promise<void>((r) => (wake = r));
        const next = queued.shift();
        if (closed || next === undefined || next === "end") return;
        yield next;
      }
    },
  };
  const push = (e: RecursiveWatch.FsEvent | "end") => {
    queued.push(e);
    wake?.();
  };
  return { watcher, push, isClosed: () => closed };
};

const setUp = () => {
  const made: Array<ReturnType<typeof standIn> & { readonly at: number }> = [];
  const deno: RecursiveWatch.Runtime = {
    watchFs: () => {
      const w = { ...standIn(), at: performance.now() };
      made.push(w);
      return w.watcher;
    },
  };
  const changed: Array<readonly [string, boolean]> = [];
  const lost: Array<string | undefined> = [];
  const shell = { tree: { root: "/r" } } as unknown as Shell;
  const watches = RecursiveWatch.start(deno, shell, { changed: (abs, structural) => changed.push([abs, structural]), lost: (why) => lost.push(why) });
  return { made, changed, lost, watches };
};

const turn = (ms = 0) => new Promise((r) => setTimeout(r, ms));

test("events: a change is a change, a name made, removed or renamed may be a move, a read is nothing, an overflow is events lost", async () => {
  const { made, changed, lost, watches } = setUp();
  await watches.watch("/r");
  assert.is(made.length, 1);
  await watches.watch("/r/sub"); // below the root: watched already
  assert.is(made.length, 1);
  made[0]!.push({ kind: "modify", paths: ["/r/a"] });
  made[0]!.push({ kind: "access", paths: ["/r/a"] });
  made[0]!.push({ kind: "create", paths: ["/r/d"] });
  made[0]!.push({ kind: "rename", paths: ["/r/d", "/r/e"] });
  made[0]!.push({ kind: "remove", paths: ["/r/b"] });
  made[0]!.push({ kind: "other", paths: [], flag: "rescan" });
  await turn();
  assert.equal(changed, [["/r/a", false], ["/r/d", true], ["/r/d", true], ["/r/e", true], ["/r/b", true]]);
  assert.is(lost.length, 1);
  assert.match(lost[0] ?? "", /overflowed/);
  watches.stop();
});

test("the root's watch is made anew only once the old one is let go, and one that ends by itself is made again", async () => {
  const { made, lost, watches } = setUp();
  await watches.watch("/r");
  const closedAt = performance.now();
  await watches.watch("/r"); // the root come back: a new watch
  assert.is(made.length, 2);
  assert.ok(made[0]!.isClosed());
  assert.ok(made[1]!.at - closedAt >= 9, `made ${(made[1]!.at - closedAt).toFixed(1)} ms after the old one closed`);
  made[1]!.push("end");
  await turn(20);
  assert.is(lost.length, 1);
  assert.match(lost[0] ?? "", /stopped/);
  await turn(1100);
  assert.is(made.length, 3, "made again a second after it ended");
  watches.stop();
  await turn(20);
  assert.ok(made[2]!.isClosed());
});

test.run();
