// The example scripts run as a user would run them, and print what they promise.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Command from "../bench/Command.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

test("examples/upload-and-restore.ts restores the tree before and after a live edit", () => {
  const out = execFileSync(process.execPath, ["--import", "tsx", "examples/upload-and-restore.ts"], { cwd: root, encoding: "utf8", timeout: 60_000 });
  assert.match(out, /restored before the edit \(seq 8\): 3 files; today.txt = "buy milk\\n"/);
  assert.match(out, /restored now \(seq 9\): 3 files; today.txt = "buy milk\\nwater the plants\\n"/);
  assert.match(out, /versions of notes\/today.txt: seq 4 ItemCreated, seq 9 ItemWritten/);
});

test("examples/capture-api.ts restores the state of an application checkpoint, under Node and Deno", () => {
  const deno = join(root, "node_modules", ".bin", "deno");
  for (const [file, args] of [[process.execPath, ["--import", "tsx"]], [deno, ["run", "--quiet", "--allow-all"]]] as const) {
    const out = execFileSync(file, [...args, "examples/capture-api.ts"], { cwd: root, encoding: "utf8", timeout: 60_000, env: { ...process.env, NO_COLOR: "1" } });
    assert.match(out, /restored as of commit-1: journal "commit 1\\n", page 2 starts "page 2 v1\."/);
    assert.match(out, /db\/pages versions: \d+ ItemCreated, \d+ ItemWritten/);
  }
});

test("npm run demo walks through protect, crash, resync and a point-in-time restore", () => {
  const out = execFileSync(process.execPath, ["--import", "tsx", "examples/demo.ts"], { cwd: root, encoding: "utf8", timeout: 120_000 });
  assert.match(out, /\[7\] the agent restarts[\s\S]*in sync: \d+ items match demo/);
  assert.match(out, /identical, byte for byte/);
  assert.match(out, /agent exit 0, store exit 0/);
});

test("the tidemark command prints usage and refuses an unknown command with exit 2", () => {
  const bin = join(root, "adapters", "cli", "tidemark.mjs");
  const help = execFileSync(process.execPath, [bin, "--help"], { encoding: "utf8", timeout: 30_000 });
  assert.match(help, /tidemark store serve/);
  // Run as a program, as the package's bin runs it: its first line starts node with the flags the benchmarks read from it.
  assert.match(execFileSync(bin, ["--help"], { encoding: "utf8", timeout: 30_000 }), /tidemark store serve/);
  assert.equal(Command.nodeFlags, ["--v8-pool-size=1"]);
  assert.equal(Command.flagsOf("#!/usr/bin/env node\nrest"), []);
  try {
    execFileSync(process.execPath, [bin, "frobnicate"], { encoding: "utf8", stdio: "pipe", timeout: 30_000 });
    assert.unreachable("an unknown command must fail");
  } catch (e) {
    const err = e as { status?: number; stderr?: string };
    assert.is(err.status, 2);
    assert.match(String(err.stderr), /unknown command "frobnicate"/);
  }
});

test.run();
