// A restore the target's disk cannot hold, through the command line: `restore` runs under a file size
// limit (`ulimit -f`: EFBIG, as a full disk gives ENOSPC). It exits 1 naming the file it could not
// write and why, and leaves no temporary file behind; run again with room, it completes the tree.
// Seen by hand on a full tmpfs: "tidemark restore: unexpected error: ENOSPC: no space left on device, write".
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { bytes, differences, random, snapshot, start, startStore, stop, tidemark, until } from "./harness.ts";

test("a restore past the target's room names the file it could not write, and a second run completes it", async () => {
  const work = await mkdtemp(join(tmpdir(), "tidemark-restorefull-"));
  const tree = join(work, "tree");
  const rnd = random(5);
  await mkdir(tree);
  await writeFile(join(tree, "a-small.txt"), "small\n");
  await writeFile(join(tree, "b-large.bin"), bytes(rnd, 3 * 1024 * 1024));
  const store = await startStore(join(work, "store"));
  const connection = ["--store", store.address, "--source", "restorefull"];
  const agent = start(["protect", tree, ...connection, "--spool", join(work, "spool")]);
  try {
    assert.ok(await until(async () => (await tidemark(["verify", tree, ...connection])).code === 0, 60_000, 300), agent.output());
    const target = join(work, "restored");
    // 1 MiB per file: the small file fits, the large one does not.
    const limited = await tidemark(["restore", ...connection, "--to", target], 60_000, 1024);
    assert.is(limited.code, 1, limited.stderr);
    assert.match(limited.stderr, /^tidemark restore: cannot write "b-large\.bin": .*EFBIG/);
    assert.equal(await readdir(target), ["a-small.txt"], "no temporary file is left behind");
    const again = await tidemark(["restore", ...connection, "--to", target]);
    assert.is(again.code, 0, again.stderr);
    assert.equal(differences(await snapshot(tree), await snapshot(target)), []);
  } finally {
    await stop(agent, "SIGKILL");
    await stop(store, "SIGKILL");
    await rm(work, { recursive: true, force: true });
  }
});

test.run();
