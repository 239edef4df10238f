// The same command line under Deno and Node, talking to each other: a Deno agent protecting into a
// Node store, and a Node agent into a Deno store; each must bring the store in sync with a live tree,
// also after a directory of it is moved out of the tree and back, then within it, and written in.
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { makeTree, random, type Runtime, start, startStore, stop, tidemark, until } from "./harness.ts";

const test = suite("Deno and Node together");
let work = "";

test.before(async () => {
  work = await mkdtemp(join(tmpdir(), "tidemark-deno-"));
});
test.after(() => rm(work, { recursive: true, force: true }));

const pair = (storeRuntime: Runtime, agentRuntime: Runtime) =>
  test(`a ${agentRuntime} agent protects into a ${storeRuntime} store`, async () => {
    const tree = join(work, `${agentRuntime}-tree`);
    await makeTree(tree, random(3), 40, 300_000);
    await mkdir(join(tree, "roundtrip", "inner"), { recursive: true });
    const store = await startStore(join(work, `${storeRuntime}-store`), [], "127.0.0.1:0", storeRuntime);
    const source = `${agentRuntime}-agent`;
    const agent = start(["protect", tree, "--store", store.address, "--source", source, "--spool", join(work, `${agentRuntime}-spool`)], agentRuntime);
    try {
      const verify = async () => (await tidemark(["verify", tree, "--store", store.address, "--source", source])).code === 0;
      assert.ok(await until(verify, 60_000, 300), `no upload:\n${agent.output()}\n${store.output()}`);
      await writeFile(join(tree, "live.txt"), `written while ${agentRuntime} protects\n`);
      assert.ok(await until(verify, 30_000, 300), `no live change:\n${agent.output()}`);
      // Out and back in, again and again: under Deno's node:fs watches, a round trip now and then lost
      // the directory's new watches (4 of 8 runs of this missed one).
      for (let trip = 0; trip < 12; trip++) {
        await rename(join(tree, "roundtrip"), join(work, `${agentRuntime}-away`));
        await new Promise((r) => setTimeout(r, (trip % 4) * 30));
        await rename(join(work, `${agentRuntime}-away`), join(tree, "roundtrip"));
        await new Promise((r) => setTimeout(r, 300 + (trip % 3) * 200));
        await writeFile(join(tree, "roundtrip", "inner", `after${trip}.txt`), "written after the round trip\n");
        await writeFile(join(tree, "roundtrip", `after${trip}.txt`), "written after the round trip\n");
        assert.ok(await until(verify, 10_000, 300), `a change in a directory moved out and back was missed (trip ${trip}):\n${agent.output()}`);
      }
      // Moved within the tree: the watch left at its old path is closed (under Deno's node:fs watches,
      // closing it lost the new path's watch too).
      await rename(join(tree, "roundtrip"), join(tree, "moved"));
      for (const ms of [0, 100, 300, 1000]) {
        await new Promise((r) => setTimeout(r, ms));
        await writeFile(join(tree, "moved", "inner", `moved${ms}.txt`), "written after the move\n");
        await writeFile(join(tree, "moved", `moved${ms}.txt`), "written after the move\n");
      }
      assert.ok(await until(verify, 10_000, 300), `a change in a directory moved within the tree was missed:\n${agent.output()}`);
    } finally {
      assert.is(await stop(agent), 0, agent.output());
      assert.is(await stop(store), 0, store.output());
    }
  });

pair("node", "deno");
pair("deno", "node");

test.run();
