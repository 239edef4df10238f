// The same command line under Deno and Node, talking to each other: a Deno agent protecting into a
// Node store, and a Node agent into a Deno store; each must bring the store in sync with a live tree.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
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
    const store = await startStore(join(work, `${storeRuntime}-store`), [], "127.0.0.1:0", storeRuntime);
    const source = `${agentRuntime}-agent`;
    const agent = start(["protect", tree, "--store", store.address, "--source", source, "--spool", join(work, `${agentRuntime}-spool`)], agentRuntime);
    try {
      const verify = async () => (await tidemark(["verify", tree, "--store", store.address, "--source", source])).code === 0;
      assert.ok(await until(verify, 60_000, 300), `no upload:\n${agent.output()}\n${store.output()}`);
      await writeFile(join(tree, "live.txt"), `written while ${agentRuntime} protects\n`);
      assert.ok(await until(verify, 30_000, 300), `no live change:\n${agent.output()}`);
    } finally {
      assert.is(await stop(agent), 0, agent.output());
      assert.is(await stop(store), 0, store.output());
    }
  });

pair("node", "deno");
pair("deno", "node");

test.run();
