/**
 * The test command: type-check (tsc and deno check), run every law and test under Node with uvu, run the core laws,
 * the store compliance suite, the transport suite and the watch suite again under Deno, and end with one plain line `N passed, N failed` counted over both runtimes.
 * Exits non-zero on any failure.
 *
 * Plain JavaScript, so the runner itself needs no TypeScript loader.
 *
 * Usage: node laws/run.mjs [--node-only]
 *
 * @module
 */
import { spawn } from "node:child_process";
import process from "node:process";

/** Runs a command, echoing its output; resolves to its exit code and output. */
const sh = (cmd, args, env = {}) =>
  new Promise((resolve) => {
    // No step may run past ten minutes: a hung runtime fails the run instead of stalling CI.
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env }, timeout: 600_000, killSignal: "SIGKILL" });
    let output = "";
    const tee = (chunk, to) => {
      output += chunk.toString("utf8");
      to.write(chunk);
    };
    child.stdout.on("data", (c) => tee(c, process.stdout));
    child.stderr.on("data", (c) => tee(c, process.stderr));
    child.on("error", (e) => resolve({ code: 127, output: String(e) }));
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });

const plain = (s) => s.replace(/\u001b\[[0-9;]*m/g, "");

/** Reads uvu's summary (Total / Passed / Skipped). A run that printed none counts as one failure. */
const totals = (o) => {
  const text = plain(o.output);
  const total = /Total:\s+(\d+)/.exec(text);
  const passed = /Passed:\s+(\d+)/.exec(text);
  const skipped = /Skipped:\s+(\d+)/.exec(text);
  if (total === null || passed === null) return { passed: 0, failed: 1 };
  const failed = Number(total[1]) - Number(passed[1]) - Number(skipped?.[1] ?? 0);
  return { passed: Number(passed[1]), failed: Math.max(failed, o.code === 0 ? 0 : 1) };
};

const bin = (name) => `node_modules/.bin/${name}`;

const main = async () => {
  let passed = 0;
  let failed = 0;
  console.log("# type-check (tsc, then deno check of the same files)");
  const tsc = await sh(bin("tsc"), ["-p", "."]);
  if (tsc.code === 0) passed++;
  else failed++;
  if (!process.argv.includes("--node-only")) {
    const denoCheck = await sh(bin("deno"), ["check", "--quiet", "core", "store", "adapters", "laws", "examples", "bench"], { NO_COLOR: "1" });
    if (denoCheck.code === 0) passed++;
    else failed++;
  }

  console.log("# Node: every test under laws/ (uvu)");
  const node = totals(await sh(process.execPath, ["--import", "tsx", "node_modules/uvu/bin.js", "laws", "\\.test\\.ts$"]));
  passed += node.passed;
  failed += node.failed;

  if (!process.argv.includes("--node-only")) {
    console.log("# Deno: the core laws again");
    const core = totals(await sh(bin("deno"), ["run", "--quiet", "--allow-read", "--allow-env", "laws/core/all.ts"], { NO_COLOR: "1" }));
    console.log("# Deno: the store compliance suite (classic-level through FFI, memory-level)");
    const storeFlags = ["--allow-read", "--allow-write", "--allow-env", "--allow-ffi", "--allow-sys"];
    const store = totals(await sh(bin("deno"), ["run", "--quiet", ...storeFlags, "laws/store/all.ts"], { NO_COLOR: "1" }));
    console.log("# Deno: the transport suite (in-memory link and TCP on 127.0.0.1)");
    const wire = totals(await sh(bin("deno"), ["run", "--quiet", ...storeFlags, "--allow-net=127.0.0.1", "laws/wire/all.ts"], { NO_COLOR: "1" }));
    console.log("# Deno: the watch suite (Deno.watchFs over the tree, against a store on disk)");
    const watching = totals(await sh(bin("deno"), ["run", "--quiet", "--allow-all", "laws/agent/watching.ts"], { NO_COLOR: "1" }));
    passed += core.passed + store.passed + wire.passed + watching.passed;
    failed += core.failed + store.failed + wire.failed + watching.failed;
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
};

process.exitCode = await main();
