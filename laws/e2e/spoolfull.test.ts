// A spool that cannot be written, through the command line: `protect` runs under a file size limit
// (`ulimit -f`, which the kernel enforces with EFBIG as a full disk does with ENOSPC), so its event
// log cannot hold the upload. The agent says so, goes on without it, reaches in sync, keeps up with
// live changes, and after a SIGKILL a restart (without the limit) brings the store up to date again.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { bytes, makeTree, random, start, startLimited, startStore, stop, tidemark, until } from "./harness.ts";

test("an agent whose spool cannot be written goes on without it, and a restart catches up", async () => {
  const work = await mkdtemp(join(tmpdir(), "tidemark-spoolfull-"));
  const tree = join(work, "tree");
  const rnd = random(11);
  await makeTree(tree, rnd, 120, 3 * 1024 * 1024);
  const store = await startStore(join(work, "store"));
  const connection = ["--store", store.address, "--source", "full"];
  const protect = ["protect", tree, ...connection, "--spool", join(work, "spool")];
  const inSync = () => until(async () => (await tidemark(["verify", tree, ...connection])).code === 0, 60_000, 300);
  // 256 KiB: the upload's first batches (a 3 MiB file among them) do not fit.
  let agent = startLimited(256, protect);
  try {
    assert.ok(await inSync(), `not in sync with a spool that cannot be written:\n${agent.output()}`);
    assert.match(agent.output(), /cannot write the spool .*unspooled/);
    assert.is(agent.child.exitCode, null, `the agent stopped:\n${agent.output()}`);
    for (let i = 0; i < 10; i++) await writeFile(join(tree, `live${i}.bin`), bytes(rnd, 100_000));
    assert.ok(await inSync(), `live changes did not reach the store:\n${agent.output()}`);
    assert.is(await stop(agent, "SIGKILL"), null);
    for (let i = 0; i < 10; i++) await writeFile(join(tree, `offline${i}.bin`), bytes(rnd, 50_000));
    agent = start(protect);
    assert.ok(await inSync(), `no catching up after a restart:\n${agent.output()}`);
  } finally {
    await stop(agent, "SIGKILL");
    await stop(store, "SIGKILL");
    await rm(work, { recursive: true, force: true });
  }
});

test.run();
