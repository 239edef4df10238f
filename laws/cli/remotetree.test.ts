// How the command line's restore asks the store for chunks (`RestoreCommand.remoteTree`): the chunks
// of many small files in one query, a large file's in windows as it is written, every query within
// the store's bounds, and files sharing chunks restored whole. The store's side is a map answering
// `Chunks` queries as the server does (the wire is tested on its own); files are written for real.
import * as E from "fp-ts/lib/Either.js";
import { Effect } from "effect";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { remoteTree } from "../../adapters/cli/RestoreCommand.ts";
import { sha256 } from "../../adapters/Sha256.ts";
import type * as Client from "../../adapters/wire/Client.ts";
import * as Digest from "../../core/Digest.ts";
import type * as History from "../../core/History.ts";
import * as Manifest from "../../core/Manifest.ts";
import * as Restore from "../../store/Restore.ts";

const KiB = 1024;

/** A store of chunks answering `Chunks` queries, and the digests of each query asked. */
const chunkStore = () => {
  const chunks = new Map<string, Uint8Array>();
  const queries: Array<ReadonlyArray<string>> = [];
  const client = {
    query: (q: { readonly _tag: string; readonly digests: ReadonlyArray<string> }) =>
      Effect.sync(() => {
        queries.push(q.digests);
        return [q.digests.map((d) => [d, chunks.get(d) ?? null] as const)];
      }),
  } as unknown as Client.Client;
  /** A file version made of these chunk contents (stored as it goes). */
  const file = (path: string, contents: ReadonlyArray<Uint8Array>): History.Version => {
    const manifest = contents.map((bytes) => {
      const digest = Digest.of(sha256, bytes);
      chunks.set(digest, bytes);
      return { digest, size: bytes.length };
    });
    const meta = { type: "file", size: Manifest.size(manifest as Manifest.Manifest), mode: 0o644, mtimeMs: 1_700_000_000_000, digest: Manifest.contentDigest(manifest as Manifest.Manifest, sha256), linkTarget: null };
    return { path, meta, manifest } as unknown as History.Version;
  };
  return { client, queries, file };
};

/** Restores `versions` through `remoteTree` into a temporary directory; each file's SHA-256 by path. */
const restored = async (client: Client.Client, versions: ReadonlyArray<History.Version>): Promise<Map<string, string>> => {
  const dir = await mkdtemp(join(tmpdir(), "tidemark-remotetree-"));
  try {
    const out = await Restore.restore(remoteTree(client, versions), "s", { seq: 1 }, dir);
    assert.ok(E.isRight(out), JSON.stringify(out));
    return new Map(await Promise.all(versions.map(async (v) => [v.path, createHash("sha256").update(await readFile(join(dir, v.path))).digest("hex")] as const)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

const sha = (parts: ReadonlyArray<Uint8Array>): string => createHash("sha256").update(Buffer.concat(parts)).digest("hex");

test("the chunks of many small files are asked for a batch of files at a time", async () => {
  const { client, queries, file } = chunkStore();
  const contents = Array.from({ length: 600 }, () => new Uint8Array(randomBytes(KiB)));
  const versions = contents.map((c, i) => file(`f${String(i).padStart(4, "0")}`, [c]));
  const got = await restored(client, versions);
  versions.forEach((v, i) => assert.is(got.get(v.path), sha([contents[i]!])));
  // A query per file asked 600 times; a batch holds up to 128 chunks.
  assert.ok(queries.length <= 6, `${queries.length} queries`);
  assert.ok(queries.every((q) => q.length <= 128));
});

test("a large file's chunks are asked for in windows as it is written, and shared chunks restore every file", async () => {
  const { client, queries, file } = chunkStore();
  const zeros = new Uint8Array(128 * KiB);
  // 200 chunks of 128 KiB (25 MiB), with a run of zeros repeated apart from itself.
  const large = Array.from({ length: 200 }, (_, k) => (k % 50 === 7 ? zeros : new Uint8Array(randomBytes(128 * KiB))));
  const small = new Uint8Array(randomBytes(3 * KiB));
  const versions = [file("a", [small]), file("big", large), file("copy-of-a", [small]), file("z", [zeros, small])];
  const got = await restored(client, versions);
  assert.is(got.get("a"), sha([small]));
  assert.is(got.get("copy-of-a"), sha([small]));
  assert.is(got.get("big"), sha(large));
  assert.is(got.get("z"), sha([zeros, small]));
  const sizes = new Map<string, number>([...large, small].map((b) => [Digest.of(sha256, b), b.length]));
  const bytesOf = (q: ReadonlyArray<string>) => q.reduce((n, d) => n + (sizes.get(d) ?? 0), 0);
  assert.ok(queries.every((q) => q.length <= 128 && bytesOf(q) <= 8 * 1024 * KiB + 128 * KiB), "a query within the bounds");
  // The large file in windows of about 8 MiB, never all of it at once; its repeated chunk not fetched a window again.
  const forLarge = queries.filter((q) => q.some((d) => sizes.get(d) === 128 * KiB && d !== Digest.of(sha256, zeros)));
  assert.ok(forLarge.length >= 3 && forLarge.length <= 6, `${forLarge.length} queries for the large file`);
});

test.run();
