/**
 * Acknowledgement latency over the wire: a store server in its own process (the real
 * `tidemark store serve`, classic-level on disk), and a client sending one small-file event every
 * millisecond (1,000 events/s) as the agent would, each its own append. Prints p50, p99 and max of
 * the time from an event being sent to its acknowledgement (which comes only after the store's
 * synced batch), and the rate reached.
 *
 * Usage: npm run bench:latency [-- --quick] [-- --rate N] [-- --dir DIR]
 *
 * @module
 */
import { Effect } from "effect";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import * as Client from "../adapters/wire/Client.ts";
import type { SourceId } from "../core/Codecs.ts";
import { created } from "../laws/wire/transport.ts";
import * as Command from "./Command.ts";

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const quick = process.argv.includes("--quick");
const rate = Number(arg("rate") ?? 1000);
const seconds = quick ? 3 : 10;
const source = "latency" as SourceId;

const percentile = (sorted: ReadonlyArray<number>, p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

const work = await mkdtemp(join(arg("dir") ?? tmpdir(), "tidemark-latency-"));
const server = spawn(process.execPath, [...Command.nodeFlags, Command.cli, "store", "serve", "--data", join(work, "store"), "--listen", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "inherit"] });
const address = await new Promise<string>((resolve, reject) => {
  let out = "";
  server.stdout.on("data", (d) => {
    out += d;
    const m = /listening on (\S+?),/.exec(out);
    if (m !== null) resolve(m[1]!);
  });
  server.on("exit", () => reject(new Error("the store exited")));
});

const sent = new Map<number, number>();
const latencies: Array<number> = [];
let acked = 0;
const client = await Effect.runPromise(Client.connect({
  address,
  role: "agent",
  source,
  secret: null,
  onAck: (seq) => {
    const now = performance.now();
    for (let s = acked + 1; s <= seq; s++) latencies.push(now - sent.get(s)!);
    acked = Math.max(acked, seq);
  },
}));

const total = rate * seconds;
const events = Array.from({ length: total }, (_, i) => created(source, `f/${i}.txt`, `event ${i} `.repeat(100), i + 1));
const began = performance.now();
for (let i = 0; i < total; i++) {
  const due = began + (i * 1000) / rate;
  const wait = due - performance.now();
  if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  sent.set(i + 1, performance.now());
  await Effect.runPromise(client.send({ _tag: "Append", events: [events[i]!] }));
}
const deadline = performance.now() + 30_000;
while (acked < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
const elapsed = (performance.now() - began) / 1000;
await Effect.runPromise(client.close());
server.kill("SIGTERM");
await new Promise((r) => server.on("exit", r));
await rm(work, { recursive: true, force: true });

const sorted = [...latencies].sort((a, b) => a - b);
console.log(`events: ${total} at a target of ${rate}/s; acknowledged ${acked} in ${elapsed.toFixed(2)} s (${(acked / elapsed).toFixed(0)}/s)`);
console.log(`ack latency: p50 ${percentile(sorted, 50).toFixed(2)} ms, p99 ${percentile(sorted, 99).toFixed(2)} ms, max ${sorted.at(-1)!.toFixed(2)} ms`);
