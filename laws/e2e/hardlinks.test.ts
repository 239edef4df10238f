// Hard links through the command line: a write, a truncation or a chmod through one name of a file
// changes it under all its names, and the watcher reports only the name written through (also when
// that name is removed or replaced at once, before the agent reads it). The store follows at every
// name within seconds (not at the next periodic scan, a minute later), during the
// live stream and after an agent restart, and a restore of the latest state equals the tree.
import { appendFileSync, chmodSync, linkSync, mkdirSync, renameSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { differences, restoredTree, snapshot, start, startStore, stop, tidemark, until } from "./harness.ts";

/** Waits (at most `ms`) until `verify` exits 0; what it last said otherwise. */
const inSync = async (tree: string, connection: ReadonlyArray<string>, ms: number): Promise<string | undefined> => {
  let last = "";
  const synced = await until(async () => {
    const v = await tidemark(["verify", tree, ...connection]);
    last = v.stdout + v.stderr;
    return v.code === 0;
  }, ms, 300);
  return synced === true ? undefined : last.split("\n").slice(0, 6).join("\n");
};

test("a change through one name of a hard-linked file reaches the store at all its names", async () => {
  const work = await mkdtemp(join(tmpdir(), "tidemark-hardlinks-"));
  const tree = join(work, "tree");
  mkdirSync(join(tree, "a"), { recursive: true });
  mkdirSync(join(tree, "b"), { recursive: true });
  writeFileSync(join(tree, "a", "data.bin"), "first version\n".repeat(50));
  linkSync(join(tree, "a", "data.bin"), join(tree, "b", "same.bin"));
  linkSync(join(tree, "a", "data.bin"), join(tree, "a", "third.bin"));
  for (let i = 0; i < 20; i++) writeFileSync(join(tree, "b", `plain${i}.txt`), `plain ${i}\n`);
  const store = await startStore(join(work, "store"));
  const connection = ["--store", store.address, "--source", "links"];
  const protect = () => start(["protect", tree, ...connection, "--spool", join(work, "spool")]);
  let agent = protect();
  try {
    assert.is(await inSync(tree, connection, 20_000), undefined, "the upload");
    // Each change through one name, the others left for the agent to find; 10 s is well inside the
    // periodic scan's minute.
    appendFileSync(join(tree, "a", "data.bin"), "appended through a/data.bin\n");
    assert.is(await inSync(tree, connection, 10_000), undefined, "an append through one name");
    truncateSync(join(tree, "b", "same.bin"), 20);
    assert.is(await inSync(tree, connection, 10_000), undefined, "a truncation through another");
    chmodSync(join(tree, "a", "third.bin"), 0o600);
    assert.is(await inSync(tree, connection, 10_000), undefined, "a chmod through the third");
    // Written through a name that goes at once (the agent never reads it there), or is replaced at once.
    linkSync(join(tree, "a", "data.bin"), join(tree, "b", "brief.bin"));
    assert.is(await inSync(tree, connection, 10_000), undefined, "a fourth name");
    appendFileSync(join(tree, "b", "brief.bin"), "written through a name removed at once\n");
    unlinkSync(join(tree, "b", "brief.bin"));
    assert.is(await inSync(tree, connection, 10_000), undefined, "a write through a name removed at once");
    linkSync(join(tree, "a", "data.bin"), join(tree, "b", "brief.bin"));
    assert.is(await inSync(tree, connection, 10_000), undefined, "the name made again");
    appendFileSync(join(tree, "b", "brief.bin"), "written through a name replaced at once\n");
    renameSync(join(tree, "b", "plain0.txt"), join(tree, "b", "brief.bin"));
    assert.is(await inSync(tree, connection, 10_000), undefined, "a write through a name replaced at once");
    // Restarted, with a write made while it was down and one just after it starts.
    await stop(agent, "SIGKILL");
    appendFileSync(join(tree, "b", "same.bin"), "written while the agent was down\n");
    agent = protect();
    assert.is(await inSync(tree, connection, 20_000), undefined, "the restart");
    appendFileSync(join(tree, "a", "third.bin"), "and once more\n");
    assert.is(await inSync(tree, connection, 10_000), undefined, "an append after the restart");
    assert.equal(differences(await restoredTree(connection, join(work, "restored")), await snapshot(tree)), []);
  } finally {
    await stop(agent, "SIGKILL");
    await stop(store, "SIGKILL");
    await rm(work, { recursive: true, force: true });
  }
});

test.run();
