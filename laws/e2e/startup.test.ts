// Writes in an agent's first seconds, through the command line: files created in every directory
// while `protect` starts, lists the tree and uploads it all reach the store at once — not a minute
// later, when the periodic scan would have found them.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { start, startStore, stop, tidemark, until } from "./harness.ts";

const directories = 150;

test("files created while protect starts and uploads are all in the store within seconds", async () => {
  const work = await mkdtemp(join(tmpdir(), "tidemark-startup-"));
  const tree = join(work, "tree");
  for (let d = 0; d < directories; d++) {
    await mkdir(join(tree, `d${d}`), { recursive: true });
    for (let f = 0; f < 20; f++) await writeFile(join(tree, `d${d}`, `f${f}`), `file ${d}/${f}\n`.repeat(40));
  }
  const store = await startStore(join(work, "store"));
  const connection = ["--store", store.address, "--source", "startup"];
  const agent = start(["protect", tree, ...connection, "--spool", join(work, "spool")]);
  try {
    // One new file every millisecond or so, round the directories, from the agent's start until well
    // after its upload (which takes about a second here).
    let n = 0;
    for (const end = Date.now() + 3000; Date.now() < end; n++) {
      await writeFile(join(tree, `d${n % directories}`, `new${n}`), `new ${n}\n`);
      await new Promise((r) => setTimeout(r, 1));
    }
    let last = "";
    const synced = await until(async () => {
      const v = await tidemark(["verify", tree, ...connection]);
      last = v.stdout + v.stderr;
      return v.code === 0;
    }, 15_000, 500);
    assert.ok(synced, `not in sync 15 s after ${n} files were created:\n${last.split("\n").slice(-6).join("\n")}\n${agent.output()}`);
  } finally {
    await stop(agent, "SIGKILL");
    await stop(store, "SIGKILL");
    await rm(work, { recursive: true, force: true });
  }
});

test.run();
