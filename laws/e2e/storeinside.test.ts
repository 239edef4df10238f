// A store whose data directory lies inside the tree to protect, through the command line: `protect`
// refuses at once (exit 1, one line naming the directory) and sends nothing. Seen by hand before:
// every event changed the store's files, each change another event, and a one-file tree's store
// grew by 10 MB a second. A tree beside the store's data is protected as ever.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { start, startStore, stop, tidemark, until } from "./harness.ts";

test("protect refuses a tree that holds the store's own data", async () => {
  const work = await mkdtemp(join(tmpdir(), "tidemark-storeinside-"));
  const tree = join(work, "tree");
  await mkdir(join(tree, "docs"), { recursive: true });
  await writeFile(join(tree, "docs", "a.txt"), "a\n");
  const store = await startStore(join(tree, "var", "store"));
  try {
    const refused = await tidemark(["protect", tree, "--store", store.address, "--source", "inside", "--spool", join(work, "spool")], 30_000);
    assert.is(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /tidemark protect: the agent stopped: the store's data directory .*tree\/var\/store is inside the protected directory/);
    const status = await tidemark(["status", "--store", store.address]);
    assert.match(status.stdout, /no sources yet/, "nothing was sent");
    // The same store protects a tree beside its data.
    await mkdir(join(work, "other"));
    await writeFile(join(work, "other", "b.txt"), "b\n");
    const agent = start(["protect", join(work, "other"), "--store", store.address, "--source", "beside", "--spool", join(work, "spool2")]);
    const verified = await until(async () => (await tidemark(["verify", join(work, "other"), "--store", store.address, "--source", "beside"])).code === 0, 20_000, 150);
    assert.ok(verified, `a tree beside the store's data never reached verify's exit 0\n${agent.output()}`);
    assert.is(await stop(agent), 0);
  } finally {
    await stop(store, "SIGKILL");
    await rm(work, { recursive: true, force: true });
  }
});

test.run();
