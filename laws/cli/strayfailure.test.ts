// A failure nothing waited for ends a command's process with one line on stderr and exit 1, not a
// stack trace (seen by hand before the spool was made again: the agent died printing Node's trace).
import { spawnSync } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";

test("a stray failure is one line on stderr and exit 1", () => {
  const fixture = fileURLToPath(new URL("../fixtures/stray-failure.ts", import.meta.url));
  const ran = spawnSync(process.execPath, ["--import", "tsx", fixture], { encoding: "utf8", timeout: 30_000 });
  assert.is(ran.status, 1, ran.stderr);
  assert.is(ran.stderr, "tidemark protect: unexpected error: ENOENT: no such file or directory, open '/spool/events.log'\n");
  assert.is(ran.stdout, "", "the process ends at once");
});

test.run();
