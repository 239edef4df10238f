/**
 * Live benchmark (`npm run bench:live`, `-- --quick` for a short run): an application process writes
 * at rising steady rates (small writes spread over 1,000 files) while the agent protects the tree
 * (watching it with fs.watch) into a store server process. Prints, per rate, p50 and p99 of the time
 * from a write beginning to the acknowledgement of the first event decided after it, the rate the
 * agent sustained, and its CPU share. Then the application's own write throughput (64 KiB blocks,
 * as fast as it can) alone (before and after, the ratios against their mean), while protected, and
 * during a full resync of a larger tree.
 *
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import * as Agent from "../adapters/agent/Agent.ts";
import type { SourceId } from "../core/Codecs.ts";
import * as Command from "./Command.ts";
import * as Trees from "./Trees.ts";

// The agent runs in this process: under the `tidemark` command's Node flags, as it runs there.
if (!Command.nodeFlags.every((f) => process.execArgv.includes(f))) {
  const again = spawnSync(process.execPath, [...Command.nodeFlags, ...process.execArgv, ...process.argv.slice(1)], { stdio: "inherit" });
  process.exit(again.status ?? 1);
}

const quick = process.argv.includes("--quick");
const { cli, nodeFlags } = Command;
const writer = fileURLToPath(new URL("./writer.ts", import.meta.url));
const work = await mkdtemp(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "tidemark-live-"));
const root = join(work, "tree");
const source = "live" as SourceId;

const run = (args: ReadonlyArray<string>): Promise<string> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${args.join(" ")} exited ${code}`))));
  });

const percentile = (sorted: ReadonlyArray<number>, p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** Acknowledged events by path: when each was decided and when it was acknowledged. */
const acked = new Map<string, Array<{ readonly at: number; readonly ack: number }>>();
const seen = new Set<number>();
const startAgent = () =>
  Agent.start({
    root,
    source,
    store: address,
    secret: null,
    spoolDir: join(work, "spool"),
    onAcknowledged: (events) => {
      const now = Date.now();
      for (const e of events) {
        if (seen.has(e.seq) || !("path" in e)) continue;
        seen.add(e.seq);
        acked.set(e.path, [...(acked.get(e.path) ?? []), { at: e.at, ack: now }]);
      }
    },
  });
const settle = async (agent: Agent.Running, ms: number) => {
  const end = Date.now() + ms;
  for (;;) {
    const p = agent.progress();
    if ((p.state === "backup" && p.pending === 0 && p.unacknowledged === 0) || Date.now() > end) return;
    await new Promise((r) => setTimeout(r, 20));
  }
};

const store = spawn(process.execPath, [...nodeFlags, cli, "store", "serve", "--data", join(work, "store"), "--listen", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "ignore"] });
const address = await new Promise<string>((resolve) => {
  let out = "";
  store.stdout.on("data", (d) => {
    out += d;
    const m = /listening on (\S+?),/.exec(out);
    if (m !== null) resolve(m[1]!);
  });
});

const steady = async (agent: Agent.Running, rate: number, seconds: number): Promise<void> => {
  const cpu = process.cpuUsage();
  const began = performance.now();
  const writes = (await run(["--import", "tsx", writer, root, "steady", String(rate), String(seconds)])).trim().split("\n").map((l) => l.split(" "));
  await settle(agent, 30_000);
  const wall = (performance.now() - began) / 1000;
  const used = process.cpuUsage(cpu);
  const latencies: Array<number> = [];
  let lastAck = 0;
  for (const [, path, time] of writes) {
    const hit = (acked.get(path!) ?? []).find((e) => e.at >= Number(time));
    if (hit === undefined) continue;
    latencies.push(hit.ack - Number(time));
    lastAck = Math.max(lastAck, hit.ack);
  }
  const sorted = latencies.sort((a, b) => a - b);
  const firstWrite = Number(writes[0]?.[2] ?? 0);
  console.log(
    `live ${rate} writes/s: ${latencies.length}/${writes.length} acknowledged, p50 ${percentile(sorted, 50).toFixed(0)} ms, p99 ${percentile(sorted, 99).toFixed(0)} ms, ` +
      `sustained ${(latencies.length / ((lastAck - firstWrite) / 1000)).toFixed(0)}/s, agent cpu ${((100 * (used.user + used.system)) / 1e6 / wall).toFixed(0)}% of one core`,
  );
};

const throughput = async (): Promise<number> => Number(/rate ([\d.]+)/.exec(await run(["--import", "tsx", writer, root, "max", quick ? "2" : "4"]))![1]);

try {
  await Trees.build(root, 5, quick ? 500 : 2000, []);
  let agent = await startAgent();
  await settle(agent, 120_000);
  for (const rate of quick ? [250, 1000] : [250, 500, 1000, 2000]) await steady(agent, rate, quick ? 2 : 5);
  await agent.stop();
  const alone = await throughput();
  agent = await startAgent();
  await settle(agent, 60_000);
  const protectedRate = await throughput();
  await settle(agent, 60_000);
  await agent.stop();
  // A full resync: the agent's local state is gone and the tree grew, so it compares and uploads while the application writes.
  await rm(join(work, "spool"), { recursive: true, force: true });
  await Trees.build(join(root, "more"), 6, quick ? 1000 : 5000, []);
  agent = await startAgent();
  const during = await throughput();
  const stillSyncing = agent.progress().state !== "backup";
  await settle(agent, 120_000);
  await agent.stop();
  // Alone again, last: one 4-second sample varied from 820 to 1,440 MB/s between runs, so the
  // ratios are taken against the mean of one sample before and one after the agent's.
  const aloneAfter = await throughput();
  const base = (alone + aloneAfter) / 2;
  console.log(
    `application write throughput: alone ${alone} and ${aloneAfter} MB/s, protected ${protectedRate} MB/s (${(protectedRate / base).toFixed(2)}), ` +
      `during a resync ${during} MB/s (${(during / base).toFixed(2)}${stillSyncing ? "" : "; the resync ended before the writer did"})`,
  );
} finally {
  store.kill("SIGTERM");
  await new Promise((r) => store.on("exit", r));
  await rm(work, { recursive: true, force: true });
}
process.exit(0);
