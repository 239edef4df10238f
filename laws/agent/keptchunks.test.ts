// Finding an earlier version's chunks in a changed large file with worker threads (KeptChunks), and
// re-chunking it around them (FileBytes.rebuildAround), on real files: the result must equal chunking
// the new bytes from scratch whatever the change, and what the workers vouch for must be true.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as FileBytes from "../../adapters/agent/FileBytes.ts";
import * as KeptChunks from "../../adapters/agent/KeptChunks.ts";
import * as LocalTree from "../../adapters/agent/LocalTree.ts";
import { sha256 } from "../../adapters/Sha256.ts";
import * as Chunking from "../../core/Chunking.ts";
import * as Digest from "../../core/Digest.ts";
import type * as ItemPath from "../../core/ItemPath.ts";
import * as Manifest from "../../core/Manifest.ts";

const build = (bytes: Uint8Array): Manifest.Manifest => Manifest.build(bytes, Chunking.defaultParams, sha256).manifest;
const concat = (...parts: ReadonlyArray<Uint8Array>): Uint8Array => new Uint8Array(Buffer.concat(parts));

/** Writes `earlier`, changes it to `now`, and finds the earlier chunks in it. */
const findAfter = async (earlier: Uint8Array, now: Uint8Array | undefined) => {
  const dir = await mkdtemp(join(tmpdir(), "tidemark-kept-"));
  const file = join(dir, "big.bin");
  try {
    const previous = build(earlier);
    if (now !== undefined) await writeFile(file, now);
    const size = now?.length ?? earlier.length;
    const places = await KeptChunks.find(file, size, previous);
    assert.ok(places !== undefined, "worker threads are available here");
    const rebuilt = now === undefined ? undefined : FileBytes.rebuildAround(file, size, previous, places!.known);
    return { previous, places: places!, rebuilt };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

/** Every place a worker vouched for is true of `now`. */
const vouchedTruly = (previous: Manifest.Manifest, places: KeptChunks.Places, now: Uint8Array, shift: number): boolean => {
  let offset = 0;
  return previous.every((c, k) => {
    const at = offset;
    offset += c.size;
    return [at, at + shift].every((p) => {
      const said = places.known(k, p);
      return said === undefined || said === (p + c.size <= now.length && Digest.of(sha256, now.subarray(p, p + c.size)) === c.digest);
    });
  });
};

test("an append: every earlier chunk is found where it was (the last one too, though the end no longer cuts it there), and the file re-chunked around them equals chunking from scratch", async () => {
  const earlier = new Uint8Array(randomBytes(6 << 20));
  const now = concat(earlier, randomBytes(300_000));
  const { previous, places, rebuilt } = await findAfter(earlier, now);
  assert.is(places.keptBytes, earlier.length);
  assert.ok(vouchedTruly(previous, places, now, now.length - earlier.length));
  assert.equal(rebuilt, build(now));
});

test("bytes inserted near the start: the chunks after them are found moved by their size", async () => {
  const earlier = new Uint8Array(randomBytes(6 << 20));
  const now = concat(earlier.subarray(0, 1000), new TextEncoder().encode("inserted!"), earlier.subarray(1000));
  const { previous, places, rebuilt } = await findAfter(earlier, now);
  assert.ok(places.keptBytes >= earlier.length - 2 * Chunking.defaultParams.max, `kept ${places.keptBytes} of ${earlier.length}`);
  assert.ok(vouchedTruly(previous, places, now, 9));
  assert.equal(rebuilt, build(now));
});

test("a rewritten file: the workers give up on it, leave its later chunks unchecked, and the re-chunking is still right", async () => {
  const earlier = new Uint8Array(randomBytes(12 << 20));
  const now = new Uint8Array(randomBytes(earlier.length));
  const { previous, places, rebuilt } = await findAfter(earlier, now);
  assert.is(places.keptBytes, 0);
  const offsetOf = (k: number) => Manifest.size(previous.slice(0, k));
  assert.is(places.known(0, 0), false, "the first chunk was checked");
  const unchecked = previous.filter((_, k) => places.known(k, offsetOf(k)) === undefined).length;
  assert.ok(unchecked > previous.length / 2, `most chunks left unchecked (${unchecked} of ${previous.length})`);
  assert.equal(rebuilt, build(now));
});

test("a file gone: nothing is vouched for", async () => {
  const earlier = new Uint8Array(randomBytes(3 << 20));
  const { previous, places } = await findAfter(earlier, undefined);
  assert.is(places.keptBytes, 0);
  assert.ok(previous.every((_, k) => places.known(k, Manifest.size(previous.slice(0, k))) === undefined));
});

test("a file cut short after the workers looked: re-chunking around the kept chunks says so instead of reading past its end", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tidemark-kept-"));
  try {
    const earlier = new Uint8Array(randomBytes(4 << 20));
    const now = concat(earlier, randomBytes(100_000));
    await writeFile(join(dir, "big.bin"), now);
    const previous = build(earlier);
    const places = (await KeptChunks.find(join(dir, "big.bin"), now.length, previous))!;
    await writeFile(join(dir, "big.bin"), now.subarray(0, 1 << 20));
    assert.is(FileBytes.rebuildAround(join(dir, "big.bin"), now.length, previous, places.known), undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a tree whose large file changed: found ahead by workers, then read for the store, it gives the manifest of chunking from scratch and only the chunks the store lacks", async () => {
  const root = await mkdtemp(join(tmpdir(), "tidemark-kept-tree-"));
  try {
    const tree = LocalTree.make(root);
    const earlier = new Uint8Array(randomBytes(8 << 20));
    await writeFile(join(root, "big.bin"), earlier);
    const before = (await tree.read("big.bin" as ItemPath.ItemPath, false))!;
    const now = concat(earlier.subarray(0, 3 << 20), randomBytes(50_000), earlier.subarray(3 << 20), randomBytes(70_000));
    await writeFile(join(root, "big.bin"), now);
    tree.placeChanged();
    const storeHas: ReadonlySet<string> = Manifest.digests(before.manifest);
    const item = (await tree.read("big.bin" as ItemPath.ItemPath, true, storeHas))!;
    assert.equal(item.manifest, build(now));
    const lacking = new Set(item.manifest.map((c) => c.digest).filter((d) => !storeHas.has(d)));
    assert.equal([...item.chunks.keys()].sort(), [...lacking].sort());
    for (const [d, bytes] of item.chunks) assert.is(Digest.of(sha256, bytes), d);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test.run();
