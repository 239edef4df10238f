// The watcher on real directories: when a watched directory is itself moved, its own watch reports
// the move under its own name (Node gives the directory's name as if a child of it had changed).
// That is no change of a path `dir/dir`: the parent's watch reports the move, and the agent would
// otherwise ask the store about a path that never existed, waiting for the store to apply the move.
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import * as DirtyQueue from "../../adapters/agent/DirtyQueue.ts";
import * as LocalTree from "../../adapters/agent/LocalTree.ts";
import type { Shell } from "../../adapters/agent/Shell.ts";
import * as Watch from "../../adapters/agent/Watch.ts";
import { inTempDir } from "../tempDir.ts";

/** The part of the agent's shell the watcher uses. */
const shellOver = (root: string) =>
  ({
    tree: LocalTree.make(root),
    dirty: DirtyQueue.make(),
    arrived: new Set<string>(),
    options: { scanIntervalMs: 3_600_000 },
    state: { _tag: "backup" },
    listing: [],
    log: () => undefined,
    wake: () => undefined,
  }) as unknown as Shell;

test("a watched directory moved is reported at its old and new paths, not as a child of itself", () =>
  inTempDir("tidemark-watchmoved-", async (root) => {
    mkdirSync(join(root, "dir", "inner"), { recursive: true });
    writeFileSync(join(root, "dir", "inner", "f.txt"), "f\n");
    const shell = shellOver(root);
    const watch = Watch.start(shell, true);
    try {
      await watch.ready;
      renameSync(join(root, "dir"), join(root, "moved"));
      renameSync(join(root, "moved", "inner"), join(root, "moved", "renamed"));
      await new Promise((r) => setTimeout(r, 300));
      const dirty = [...shell.dirty];
      for (const path of ["dir", "moved", "moved/renamed/f.txt"]) assert.ok(dirty.includes(path), `${path} is not dirty: ${dirty.join(", ")}`);
      for (const path of ["dir/dir", "moved/inner/inner", "dir/inner/inner"]) assert.not.ok(dirty.includes(path), `${path} is dirty: ${dirty.join(", ")}`);
    } finally {
      watch.stop();
    }
  }));

test.run();
