/**
 * The demo (`npm run demo`): the whole job through the real command line, each step printed. A store
 * server on 127.0.0.1, an agent protecting a generated directory, live edits and their history, a
 * checkpoint, the agent killed with SIGKILL and the tree changed while it is down, the restart and
 * its resync, and a point-in-time restore compared byte for byte with the tree as it was.
 *
 * Node:  npm run demo        (or node --import tsx examples/demo.ts)
 *
 * @module
 */
import { appendFile, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { differences, makeTree, random, snapshot, start, startStore, stop, tidemark, until } from "../laws/e2e/harness.ts";

const work = await mkdtemp(join(tmpdir(), "tidemark-demo-"));
const tree = join(work, "protected");
const source = "demo";
const step = (n: number, text: string) => console.log(`\n[${n}] ${text}`);
const show = (text: string) => console.log(text.trimEnd().split("\n").map((l) => `    ${l}`).join("\n"));

step(1, `generating a tree of 200 files and one 4 MiB file in ${tree}`);
await makeTree(tree, random(42), 200, 4 * 1024 * 1024);

step(2, "starting the store: tidemark store serve --data … --listen 127.0.0.1:0");
const store = await startStore(join(work, "store"));
console.log(`    listening on ${store.address}`);
const connection = ["--store", store.address];
const verify = () => tidemark(["verify", tree, ...connection, "--source", source]);
const inSync = async (what: string) => {
  const ok = await until(async () => (await verify()).code === 0, 60_000, 250);
  if (ok === undefined) throw new Error(`${what}: the store did not reach the tree's state`);
  show((await verify()).stdout);
};
const protect = () => start(["protect", tree, ...connection, "--source", source, "--spool", join(work, "spool")]);

step(3, "protecting it: tidemark protect <tree> --store … --source demo (the upload runs while we wait)");
let agent = protect();
await inSync("upload");

step(4, "live edits while protected: an append, a new file, a rename, a delete");
await appendFile(join(tree, "d1", "e1", "f1.dat"), "appended line\n");
await writeFile(join(tree, "notes.txt"), "written live\n");
await rename(join(tree, "d2", "e2", "f2.dat"), join(tree, "renamed.dat"));
await rm(join(tree, "d3", "e0", "f3.dat"));
await inSync("live edits");
show((await tidemark(["history", ...connection, "--source", source, "d1/e1/f1.dat"])).stdout);

step(5, "a checkpoint, and the tree as it is now kept aside for comparison");
show((await tidemark(["checkpoint", ...connection, "--source", source, "before-crash"])).stdout);
const pointInTime = new Date();
const atPoint = await snapshot(tree);
await new Promise((r) => setTimeout(r, 50));

step(6, "the agent is killed with SIGKILL; the tree changes while it is down");
await stop(agent, "SIGKILL");
await writeFile(join(tree, "notes.txt"), "changed while the agent was down\n");
await writeFile(join(tree, "offline.txt"), "created offline\n");
show((await verify()).stdout.split("\n").slice(-2).join("\n"));

step(7, "the agent restarts and resynchronises (no downtime for the tree: it was never locked)");
agent = protect();
await inSync("resync after the crash");
show((await tidemark(["status", ...connection, "--source", source])).stdout);

step(8, `restoring the tree as of ${pointInTime.toISOString()} (--at) and comparing it with the copy from step 5`);
const restored = join(work, "restored");
show((await tidemark(["restore", ...connection, "--source", source, "--to", restored, "--at", pointInTime.toISOString()])).stdout);
const diff = differences(atPoint, await snapshot(restored));
console.log(diff.length === 0 ? "    identical, byte for byte" : `    differs at: ${diff.join(", ")}`);

step(9, "stopping the agent and the store (SIGTERM)");
console.log(`    agent exit ${await stop(agent)}, store exit ${await stop(store)}`);
await rm(work, { recursive: true, force: true });
process.exit(diff.length === 0 ? 0 : 1);
