// The kernel's watcher queue overflowing, end to end over TCP into a store on disk: more files are
// removed, while the agent's event loop is blocked, than the queue holds, so the events past it are
// lost. Under Node, which does not report inotify's overflow, the agent counts the events it reads at
// once and takes a full queue for an overflow; under Deno the watch says so. Either way it compares
// the tree: the store loses the files within seconds, not at the periodic scan (an hour away here).
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Agent from "../../adapters/agent/Agent.ts";
import * as DirectoryWatches from "../../adapters/agent/DirectoryWatches.ts";
import type { SourceId } from "../../core/Codecs.ts";
import { eventually, storedFiles, withServedTree } from "./syncing.ts";

const source = "overflowed" as SourceId;

test("a watcher queue that overflows is noticed, and the tree compared", () =>
  withServedTree((store) => store, async (s) => {
    // Past the queue's length, so that events are lost for certain.
    const files = Math.min(DirectoryWatches.queueLimit() + 4_000, 60_000);
    mkdirSync(join(s.root, "many"));
    for (let i = 0; i < files; i++) writeFileSync(join(s.root, "many", `f${i}`), "x");
    const lines: Array<string> = [];
    const agent = await Agent.start({ root: s.root, source, store: s.server.address, secret: null, spoolDir: join(s.work, "spool"), scanIntervalMs: 3_600_000, log: (l) => lines.push(l) });
    try {
      await eventually(async () => agent.progress().state === "backup" && agent.progress().pending === 0 && agent.progress().unacknowledged === 0, 60_000);
      assert.is(Object.keys(await storedFiles(s.store, source)).length, files + 1);
      // Synchronously: nothing reads the watcher's queue meanwhile.
      rmSync(join(s.root, "many"), { recursive: true });
      await eventually(async () => Object.keys(await storedFiles(s.store, source)).length === 1, 30_000);
      assert.equal(await storedFiles(s.store, source), { a: 5 }, `the removed files are still in the store\n${lines.join("\n")}`);
      assert.ok(lines.some((l) => /may be lost, so the tree is compared/.test(l)), lines.join("\n"));
    } finally {
      await agent.stop();
    }
  }));

test.run();
