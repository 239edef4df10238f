/**
 * One agent run for the resync benchmark, in its own process so its CPU time is its own. It loads,
 * prints `ready`, waits for `go` on stdin, runs the agent until it is in sync with the store (backup,
 * nothing pending, everything acknowledged), prints `synced <wall ms> <cpu ms>` and exits.
 *
 * Usage: node --expose-gc --import tsx bench/agent-worker.ts ROOT ADDRESS SOURCE SPOOL (the benchmark
 * runs it from a bundle, as the `tidemark` command runs: `adapters/cli/bundle.mjs`)
 *
 * @module
 */
import process from "node:process";
import { createInterface } from "node:readline";
import * as Agent from "../adapters/agent/Agent.ts";
import type { SourceId } from "../core/Codecs.ts";

const [root, address, source, spoolDir] = process.argv.slice(2) as [string, string, SourceId, string];
// What loading left behind (tsx, when used, compiles the TypeScript here) is collected now, with the rest of the
// start-up, not by the timed run's first collections: in 8 runs of scenario 2 each, the agent's CPU
// time was 346 ms (median) without this collection and 316 ms with it.
(globalThis as { gc?: () => void }).gc?.();
console.log("ready");
await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once("line", () => resolve()));
const began = performance.now();
const cpu = process.cpuUsage();
const agent = await Agent.start({ root, source, store: address, secret: null, spoolDir, watch: false, scanIntervalMs: 3_600_000 });
for (;;) {
  const p = agent.progress();
  if (p.state === "backup" && p.pending === 0 && p.unacknowledged === 0) break;
  await new Promise((r) => setTimeout(r, 2));
}
const wall = performance.now() - began;
const used = process.cpuUsage(cpu);
console.log(`synced ${wall.toFixed(1)} ${((used.user + used.system) / 1000).toFixed(1)}`);
await agent.stop();
process.exit(0);
