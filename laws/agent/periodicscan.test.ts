// The periodic reconciling scan, with no watcher (as for a directory the kernel's limit on watches
// leaves unwatched), end to end over TCP into a store on disk: a file deleted after the upload and
// before the scan's first listing is found by that first scan, which starts from the upload's
// listing, not from nothing.
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Agent from "../../adapters/agent/Agent.ts";
import type { SourceId } from "../../core/Codecs.ts";
import { eventually, storedFiles, withServedTree } from "./syncing.ts";

const source = "scanned" as SourceId;

test("a file deleted before the periodic scan's first listing is found by it", () =>
  withServedTree((store) => store, async (s) => {
    await writeFile(join(s.root, "b"), "beta");
    const agent = await Agent.start({ root: s.root, source, store: s.server.address, secret: null, spoolDir: join(s.work, "spool"), watch: false, scanIntervalMs: 1500 });
    try {
      await eventually(async () => JSON.stringify(await storedFiles(s.store, source)) === JSON.stringify({ a: 5, b: 4 }) && agent.progress().state === "backup");
      assert.equal(await storedFiles(s.store, source), { a: 5, b: 4 });
      await rm(join(s.root, "b"));
      // The first scan comes 1.5 s after the start, the second 3 s after: both well within this wait.
      await eventually(async () => JSON.stringify(await storedFiles(s.store, source)) === JSON.stringify({ a: 5 }), 6_000);
      assert.equal(await storedFiles(s.store, source), { a: 5 }, "the deleted file is still in the store");
    } finally {
      await agent.stop();
    }
  }));

test.run();
