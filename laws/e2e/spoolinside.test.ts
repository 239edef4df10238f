// A spool kept inside the protected tree (`protect DIR --spool DIR/.tidemark`), through the command
// line: the agent leaves its spool out of what it protects, and `verify` leaves it out too, so a
// tree in sync says so; another source's spool there is still an ordinary directory of the tree.
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { makeTree, random, start, startStore, stop, tidemark, until } from "./harness.ts";

test("a spool inside the tree is left out by the agent and by verify", async () => {
  const work = await mkdtemp(join(tmpdir(), "tidemark-spoolinside-"));
  const tree = join(work, "tree");
  await makeTree(tree, random(5), 30, 0);
  const store = await startStore(join(work, "store"));
  const connection = ["--store", store.address, "--source", "inside"];
  const verify = () => tidemark(["verify", tree, ...connection]);
  const agent = start(["protect", tree, ...connection, "--spool", join(tree, ".tidemark")]);
  try {
    const ran = await until(async () => {
      const v = await verify();
      return v.code === 0 ? v : undefined;
    }, 60_000, 300);
    assert.ok(ran !== undefined, `verify never reached exit 0:\n${(await verify()).stdout}\n${agent.output()}`);
    assert.match(ran.stdout, /^in sync: \d+ items/);
    // With the agent stopped, a copy of its spool naming another source is an ordinary directory: drift.
    await stop(agent, "SIGTERM");
    await cp(join(tree, ".tidemark"), join(tree, "copied"), { recursive: true });
    await writeFile(join(tree, "copied", "state.json"), JSON.stringify({ version: 1, source: "another", root: tree, generation: null, checksum: "" }));
    const drift = await verify();
    assert.is(drift.code, 1, drift.stdout);
    assert.match(drift.stdout, /only on the host: copied\/state\.json/);
    assert.ok(!/\.tidemark/.test(drift.stdout), drift.stdout);
  } finally {
    await stop(agent, "SIGKILL");
    await stop(store, "SIGKILL");
    await rm(work, { recursive: true, force: true });
  }
});

test.run();
