/**
 * Ingest benchmark: appends a realistic stream (many small files plus some large ones) to a
 * tidemark store as the server opens it (classic-level index, chunk bytes in pack files), and measures in the same run, on the same bytes and batch
 * boundaries: raw classic-level batched puts, and a plain sequential file write with fsync (the
 * disk's limit). Every batch is synced in all three. Prints MB/s and the ratio vs classic-level.
 *
 * Usage: npm run bench:ingest [-- --quick] [-- --dir DIR]
 *
 * @module
 */
import { ClassicLevel } from "classic-level";
import { randomBytes } from "node:crypto";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { sha256 } from "../adapters/Sha256.ts";
import * as Chunking from "../core/Chunking.ts";
import type { SourceId } from "../core/Codecs.ts";
import type { Digest } from "../core/Digest.ts";
import * as Event from "../core/Event.ts";
import type { ItemPath } from "../core/ItemPath.ts";
import * as Manifest from "../core/Manifest.ts";
import * as Store from "../store/Store.ts";

const quick = process.argv.includes("--quick");
const dirFlag = process.argv.indexOf("--dir");
const baseDir = dirFlag > 0 ? process.argv[dirFlag + 1]! : tmpdir();
const MiB = 1024 * 1024;
const smallFiles = quick ? 600 : 4000;
const largeFiles = quick ? [8 * MiB, 8 * MiB] : [48 * MiB, 48 * MiB, 32 * MiB, 32 * MiB];
const batchBytes = 4 * MiB;
const source = "bench" as SourceId;

/** Builds the stream: created items with their chunks, grouped into appends of about 4 MiB. */
const buildBatches = (): { batches: Array<Array<Event.Event>>; bytes: number } => {
  const sizes = [
    ...Array.from({ length: smallFiles }, (_, i) => 1024 + ((i * 7919) % (48 * 1024))),
    ...largeFiles,
  ];
  const batches: Array<Array<Event.Event>> = [[]];
  let inBatch = 0;
  let seq = 1;
  let bytes = 0;
  for (const [i, size] of sizes.entries()) {
    const data = randomBytes(size);
    const { manifest, chunks } = Manifest.build(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), Chunking.defaultParams, sha256);
    const meta = { type: "file" as const, size, mode: 0o644, mtimeMs: 1, digest: Manifest.contentDigest(manifest, sha256), linkTarget: null };
    // A large file goes as several events (one per ~4 MiB of its chunks), as the agent would stream it.
    const pieces: Array<Array<Event.ChunkData>> = [[]];
    let pieceBytes = 0;
    for (const [digest, b] of chunks) {
      if (pieceBytes + b.length > batchBytes && pieces[pieces.length - 1]!.length > 0) {
        pieces.push([]);
        pieceBytes = 0;
      }
      pieces[pieces.length - 1]!.push({ digest: digest as Digest, bytes: b });
      pieceBytes += b.length;
    }
    const path = `dir${i % 50}/file${i}.bin` as ItemPath;
    let sent: Manifest.Manifest = [];
    pieces.forEach((piece, n) => {
      const last = n === pieces.length - 1;
      const have = new Set(sent.map((c) => c.digest as string));
      const partial = last ? manifest : manifest.filter((c) => have.has(c.digest) || piece.some((p) => p.digest === c.digest));
      const body: Event.EventBody = n === 0
        ? { _tag: "ItemCreated", path, meta: last ? meta : { ...meta, size: Manifest.size(partial), digest: Manifest.contentDigest(partial, sha256) }, manifest: partial, chunks: piece, base: null, origin: "upload" }
        : { _tag: "ItemWritten", path, meta: last ? meta : { ...meta, size: Manifest.size(partial), digest: Manifest.contentDigest(partial, sha256) }, manifest: partial, chunks: piece, base: { type: "file", digest: Manifest.contentDigest(sent, sha256) }, origin: "upload", ranges: [] };
      const e = Event.stamp({ source, seq: seq++, at: seq }, body);
      const size = piece.reduce((s, c) => s + c.bytes.length, 0);
      if (inBatch + size > batchBytes && batches[batches.length - 1]!.length > 0) {
        batches.push([]);
        inBatch = 0;
      }
      batches[batches.length - 1]!.push(e);
      inBatch += size;
      bytes += size;
      sent = partial;
    });
  }
  return { batches, bytes };
};

const time = async (f: () => Promise<void>): Promise<number> => {
  const start = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - start) / 1e9;
};

const main = async (): Promise<void> => {
  console.log(`# building the stream (${quick ? "quick" : "full"} run) ...`);
  const { batches, bytes } = buildBatches();
  const events = batches.reduce((n, b) => n + b.length, 0);
  console.log(`# ${events} events, ${(bytes / MiB).toFixed(1)} MiB of chunk bytes, ${batches.length} synced batches, in ${baseDir}`);
  const work = await mkdtemp(join(baseDir, "tidemark-bench-"));
  try {
    const store = await Store.openClassic(join(work, "store"), { hash: sha256 });
    const tidemark = await time(async () => {
      for (const batch of batches) {
        const out = await store.append(source, batch);
        if (out._tag === "Left") throw new Error(`append refused: ${JSON.stringify(out.left)}`);
      }
    });
    await store.close();

    const raw = new ClassicLevel<string, Uint8Array>(join(work, "raw"), { keyEncoding: "utf8", valueEncoding: "view" });
    await raw.open();
    const classic = await time(async () => {
      for (const batch of batches) {
        // A chained batch: classic-level's fastest way to write (an array batch given options is slower).
        const ops = raw.batch();
        for (const e of batch) {
          ops.put(`l${e.seq}`, new Uint8Array(64));
          for (const c of Event.chunksOf(e)) ops.put(`k${c.digest}`, c.bytes);
        }
        await ops.write({ sync: true });
      }
    });
    await raw.close();

    const file = await open(join(work, "plain.bin"), "w");
    const disk = await time(async () => {
      for (const batch of batches) {
        for (const e of batch) for (const c of Event.chunksOf(e)) await file.write(c.bytes);
        await file.sync();
      }
    });
    await file.close();

    const rate = (s: number) => (bytes / MiB / s).toFixed(1);
    console.log(`tidemark append:           ${rate(tidemark)} MB/s (${tidemark.toFixed(2)} s)`);
    console.log(`raw classic-level batches: ${rate(classic)} MB/s (${classic.toFixed(2)} s)`);
    console.log(`plain file write + fsync:  ${rate(disk)} MB/s (${disk.toFixed(2)} s)`);
    console.log(`tidemark vs disk limit: ${(disk / tidemark).toFixed(2)}`);
    console.log(`ingest ratio vs classic-level: ${(classic / tidemark).toFixed(2)}`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
};

await main();
