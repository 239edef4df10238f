// A pack write that fails part way, as on a full disk (some bytes written, then ENOSPC), leaves the
// pack where it was: chunks staged after it are read back as they were written. Seen by hand: a store
// whose disk filled mid-upload, then was given room, served a file whose bytes did not match their
// digests, because every later chunk lay past the torn bytes, not where its index said.
import { ClassicLevel } from "classic-level";
import { mkdtemp, open, rm, stat, type FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { sha256 } from "../../adapters/Sha256.ts";
import * as Digest from "../../core/Digest.ts";
import * as Chunks from "../../store/Chunks.ts";
import { fromLevel } from "../../store/Database.ts";

/** Chunks of `size` bytes filled with `fill + i`, by digest. */
const chunksOf = (fill: number, count: number, size: number): Map<string, Uint8Array> =>
  new Map(Array.from({ length: count }, (_, i) => new Uint8Array(size).fill(fill + i)).map((b) => [Digest.of(sha256, b), b] as const));

/** Opens packs for real; while `failing` is set, a vectored write writes half its first piece and then fails as a full disk does. */
const filling = (state: { failing: boolean }): Chunks.OpenPack => async (path, flags) => {
  const file = await open(path, flags);
  return new Proxy(file, {
    get(target, key) {
      if (key === "writev" && state.failing) {
        return async (pieces: Array<Uint8Array>) => {
          await target.write(pieces[0]!.subarray(0, pieces[0]!.length >> 1));
          throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
        };
      }
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as FileHandle;
};

test("a write that fails part way leaves later chunks where their index says", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tidemark-packwrite-"));
  const db = fromLevel(new ClassicLevel<string, Uint8Array>(join(dir, "index"), { keyEncoding: "utf8", valueEncoding: "view" }));
  await db.open();
  const state = { failing: false };
  try {
    const chunks = await Chunks.packFiles(db, join(dir, "packs"), filling(state));
    const before = chunksOf(0, 4, 10_000);
    await db.batch(await chunks.stage(before), { sync: true });
    state.failing = true;
    const refused = await chunks.stage(chunksOf(50, 4, 10_000)).then(() => "staged", (e: Error) => e.message);
    assert.match(refused, /ENOSPC/);
    assert.is((await stat(join(dir, "packs", "00000001.pack"))).size, 40_000, "the torn bytes are cut off");
    state.failing = false;
    const after = chunksOf(100, 4, 10_000);
    await db.batch(await chunks.stage(after), { sync: true });
    const digests = [...before.keys(), ...after.keys()];
    const read = await chunks.getMany(digests);
    const wrong = digests.filter((d, i) => read[i] === undefined || Digest.of(sha256, read[i]!) !== d);
    assert.equal(wrong, [], "every chunk reads back as its digest says");
    await chunks.close();
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
