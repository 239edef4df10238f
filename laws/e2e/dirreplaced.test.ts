// A directory replaced by another at the same path while protected, through the command line: the
// old directory moved out of the tree, a new one made in its place and part of the old one's
// contents moved into it, all while the agent is stopped (SIGSTOP), so it looks only afterwards.
// The path is still a directory, so only the watcher's word that it appeared tells the agent to look
// below it: the old contents must leave the store, or `verify` reports them for good.
import { mkdirSync, renameSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { start, startStore, stop, tidemark, until } from "./harness.ts";

test("a directory replaced in place leaves no old contents in the store", async () => {
  const work = await mkdtemp(join(tmpdir(), "tidemark-dirreplaced-"));
  const tree = join(work, "tree");
  await mkdir(join(tree, "dir", "inner"), { recursive: true });
  for (let i = 0; i < 40; i++) await writeFile(join(tree, "dir", "inner", `f${i}.txt`), `file ${i}\n`);
  for (let i = 0; i < 10; i++) await writeFile(join(tree, "dir", `left${i}.txt`), `left behind ${i}\n`);
  const store = await startStore(join(work, "store"));
  const connection = ["--store", store.address, "--source", "replaced"];
  const verify = () => tidemark(["verify", tree, ...connection]);
  const agent = start(["protect", tree, ...connection, "--spool", join(work, "spool")]);
  try {
    assert.ok(await until(async () => (await verify()).code === 0, 60_000, 300), `the upload never reached verify's exit 0\n${agent.output()}`);
    // While the agent is stopped, so it sees only the end state: the old directory out of the tree,
    // a new one in its place, and one of the old one's directories moved into it. (Done within
    // microseconds instead, the agent sometimes saw the directory gone when the machine was busy,
    // and rightly recorded its files as deleted, not moved: 3 runs of 8 with both cores loaded.)
    process.kill(agent.child.pid!, "SIGSTOP");
    try {
      renameSync(join(tree, "dir"), join(work, "outside"));
      mkdirSync(join(tree, "dir"));
      renameSync(join(work, "outside", "inner"), join(tree, "dir", "moved"));
    } finally {
      process.kill(agent.child.pid!, "SIGCONT");
    }
    let last = "";
    const synced = await until(async () => {
      const v = await verify();
      last = v.stdout;
      return v.code === 0;
    }, 15_000, 500);
    assert.ok(synced, `not in sync 15 s after the directory was replaced:\n${last.split("\n").slice(0, 6).join("\n")}\n${agent.output()}`);
    const moved = await tidemark(["history", ...connection, "dir/moved/f7.txt"]);
    assert.is(moved.code, 0, moved.stderr);
    // What moved is recorded as moved (the agent knows the files by inode); what was left behind, as deleted.
    for (const [gone, how] of [["dir/inner/f7.txt", /ItemRenamed/], ["dir/left3.txt", /ItemDeleted/]] as const) {
      const old = await tidemark(["history", ...connection, gone]);
      assert.match(old.stdout, how, `${gone}: ${old.stdout}`);
    }
    // The new directory is watched: a file written in it later is in the store within seconds (the periodic scan is a minute away).
    await writeFile(join(tree, "dir", "later.txt"), "written later\n");
    const later = await until(async () => (await tidemark(["history", ...connection, "dir/later.txt"])).code === 0, 10_000, 300);
    assert.ok(later, `dir/later.txt never reached the store\n${agent.output()}`);
  } finally {
    await stop(agent, "SIGKILL");
    await stop(store, "SIGKILL");
    await rm(work, { recursive: true, force: true });
  }
});

test.run();
