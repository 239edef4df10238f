/**
 * The application of the live benchmark, in its own process: writes at a steady rate (small writes
 * spread over many files) and prints `w <path> <epoch ms>` with the time each write began (the time
 * after it returned can lag by a scheduling slice, long enough for the agent to have read the write
 * already, so that its event would look older than the write); or, with `max`,
 * writes 64 KiB blocks to files as fast as it can and prints `rate <MB/s>`.
 *
 * Usage: node --import tsx bench/writer.ts ROOT steady RATE SECONDS | ROOT max SECONDS
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { mkdir, open } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";

const [root, mode, a, b] = process.argv.slice(2) as [string, string, string, string | undefined];
await mkdir(join(root, "app"), { recursive: true });
const lines: Array<string> = [];
if (mode === "steady") {
  const rate = Number(a);
  const seconds = Number(b);
  const payload = randomBytes(100);
  const began = performance.now();
  for (let i = 0; i < rate * seconds; i++) {
    const due = began + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const path = `app/f${i % 1000}.dat`;
    const startedAt = Date.now();
    const h = await open(join(root, path), "a");
    await h.write(payload);
    await h.close();
    lines.push(`w ${path} ${startedAt}`);
  }
} else {
  const seconds = Number(a);
  const block = randomBytes(64 * 1024);
  const end = performance.now() + seconds * 1000;
  let bytes = 0;
  for (let f = 0; performance.now() < end; f++) {
    const h = await open(join(root, "app", `big${f % 4}.bin`), "w");
    for (let k = 0; k < 64 && performance.now() < end; k++) {
      await h.write(block);
      bytes += block.length;
    }
    await h.close();
  }
  lines.push(`rate ${(bytes / 1e6 / seconds).toFixed(1)}`);
}
process.stdout.write(lines.join("\n") + "\n");
