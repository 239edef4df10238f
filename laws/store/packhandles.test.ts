// Pack files are opened once, however many reads of a pack are asked for at once (Node on Linux:
// open descriptors are counted in /proc/self/fd).
import { ClassicLevel } from "classic-level";
import { mkdtemp, readdir, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { sha256 } from "../../adapters/Sha256.ts";
import * as Digest from "../../core/Digest.ts";
import * as Chunks from "../../store/Chunks.ts";
import { fromLevel } from "../../store/Database.ts";

/** How many of this process's open descriptors are of `file`. */
const descriptorsOf = async (file: string): Promise<number> => {
  let n = 0;
  for (const fd of await readdir("/proc/self/fd")) if ((await readlink(`/proc/self/fd/${fd}`).catch(() => "")) === file) n++;
  return n;
};

test("reads of one pack asked for at once, in a freshly opened store, share one descriptor", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tidemark-packhandles-"));
  const db = fromLevel(new ClassicLevel<string, Uint8Array>(join(dir, "index"), { keyEncoding: "utf8", valueEncoding: "view" }));
  await db.open();
  try {
    const packs = join(dir, "packs");
    const writer = await Chunks.packFiles(db, packs);
    const chunks = new Map(Array.from({ length: 8 }, (_, i) => new Uint8Array(1000).fill(i)).map((b) => [Digest.of(sha256, b), b] as const));
    await db.batch(await writer.stage(chunks), { sync: true });
    await writer.close();
    // A later pack is the one appended to (opened at start): the first is opened by the reads.
    await writeFile(join(packs, "00000002.pack"), new Uint8Array(0));
    const reader = await Chunks.packFiles(db, packs);
    const digests = [...chunks.keys()];
    const read = await Promise.all(Array.from({ length: 20 }, (_, i) => reader.getMany([digests[i % digests.length]!])));
    assert.ok(read.every(([bytes], i) => bytes !== undefined && bytes[0] === i % digests.length), "every read finds its chunk");
    assert.is(await descriptorsOf(join(packs, "00000001.pack")), 1, "the first pack is open once");
    await reader.close();
    assert.is(await descriptorsOf(join(packs, "00000001.pack")), 0, "and closed with the store");
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
