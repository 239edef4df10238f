/**
 * The store's compliance suite: one set of tests every database behind the store must pass
 * (abstract-level style). `run(name, open)` registers them with uvu for one implementation.
 *
 * @module
 */
import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { sha256 } from "../../adapters/Sha256.ts";
import * as Catalogue from "../../core/Catalogue.ts";
import type { SourceId } from "../../core/Codecs.ts";
import type { Digest } from "../../core/Digest.ts";
import * as Event from "../../core/Event.ts";
import * as Fingerprint from "../../core/Fingerprint.ts";
import { compare, type ItemPath } from "../../core/ItemPath.ts";
import * as SortedMap from "../../core/SortedMap.ts";
import * as View from "../../core/View.ts";
import type { Database } from "../../store/Database.ts";
import * as Chunks from "../../store/Chunks.ts";
import * as Keys from "../../store/Keys.ts";
import * as Restore from "../../store/Restore.ts";
import * as Store from "../../store/Store.ts";
import { check } from "../property.ts";
import * as Model from "../core/model.ts";
import { validLog } from "../core/scenarios.ts";

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
let sourceCounter = 0;
/** A fresh source id, so property runs share one database without meeting. */
const freshSource = (): SourceId => `s${++sourceCounter}` as SourceId;
const renumber = (log: ReadonlyArray<Event.Event>, source: string): Array<Event.Event> =>
  log.map((e) => ({ ...e, source }) as Event.Event);

const appendOk = async (store: Store.Store, source: string, events: ReadonlyArray<Event.Event>): Promise<Store.Appended> => {
  const out = await store.append(source, events);
  if (E.isLeft(out)) throw new Error(`append refused: ${JSON.stringify(out.left)}`);
  return out.right;
};

const dump = async (store: Store.Store, source: string) => {
  const items: Array<readonly [string, Catalogue.Entry]> = [];
  for await (const pair of store.catalogue(source)) items.push(pair);
  return items;
};

const fileAt = (path: ItemPath, text: string, seq: number, base: Event.ItemCreated["base"] = null, mtimeMs = 1000): Event.Event => {
  const local = Model.localItem(path, { text, mtimeMs });
  const chunks = [...local.chunks].map(([digest, bytes]) => ({ digest: digest as Digest, bytes }));
  return Event.stamp({ source: Model.source, seq, at: seq }, { _tag: "ItemCreated", path, meta: local.meta, manifest: local.manifest, chunks, base, origin: "live" });
};

/** How a suite run keeps chunk bytes: the store's `Chunks` for a database, and how a test damages one chunk's bytes in place. */
export interface ChunkPlacement {
  readonly open: (db: Database, dir: string) => Promise<Chunks.Chunks>;
  readonly overwrite: (db: Database, dir: string, digest: string, bytes: Uint8Array) => Promise<void>;
}

/** Chunk bytes as database values (the default). */
export const inDatabase: ChunkPlacement = {
  open: async (db) => Chunks.inDatabase(db),
  overwrite: (db, _dir, digest, bytes) => db.batch([{ type: "put", key: Keys.chunk(digest), value: bytes }]),
};

/** Registers the suite for one database. */
export const run = (name: string, openDb: (dir: string) => Promise<Database>, placement: ChunkPlacement = inDatabase): void => {
  const test = suite(`store on ${name}`);
  let dir = "";
  let store: Store.Store;
  test.before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tidemark-store-"));
    const db = await openDb(join(dir, "db"));
    store = Store.make(db, { hash: sha256, chunks: await placement.open(db, join(dir, "packs")) });
  });
  test.after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs `body` with the stored bytes of one chunk damaged (its first byte flipped), then puts them back. */
  const withDamagedChunk = async (digest: string, body: () => Promise<void>): Promise<void> => {
    const original = (await store.chunk(digest))!;
    const damaged = original.slice();
    damaged[0] = damaged[0]! ^ 0xff;
    await placement.overwrite(store.db, join(dir, "packs"), digest, damaged);
    try {
      await body();
    } finally {
      await placement.overwrite(store.db, join(dir, "packs"), digest, original);
    }
  };

  test("live projections equal a rebuild from the log after any appends", () =>
    check(fc.asyncProperty(validLog, fc.nat(), async (log, cut) => {
      const source = freshSource();
      const events = renumber(log, source);
      const at = cut % (events.length + 1);
      await appendOk(store, source, events.slice(0, at));
      await appendOk(store, source, events.slice(at));
      const rebuilt = await store.replay(source);
      const live = await dump(store, source);
      const head = await store.head(source);
      return sameJson(live, [...SortedMap.entries(rebuilt.catalogue.items)]) && sameJson(head, rebuilt.head);
    }), 25));

  test("law: range fingerprints equal those of the catalogue's items in each range, with or without a prebuilt index", () =>
    check(fc.asyncProperty(validLog, fc.array(fc.nat(), { maxLength: 4 }), fc.boolean(), async (log, cuts, legacy) => {
      const source = freshSource();
      await store.fingerprints(source, [""], null); // the index exists before the appends, which must keep it
      const events = renumber(log, source);
      const half = events.length >> 1;
      await appendOk(store, source, events.slice(0, half));
      await store.fingerprints(source, ["", "m"], null); // asked between appends too
      await appendOk(store, source, events.slice(half));
      const items = await dump(store, source);
      let reader = store;
      if (legacy) {
        // As a store written before the index existed: no item fingerprints, no marker.
        const doomed: Array<{ type: "del"; key: string }> = [{ type: "del", key: Keys.fingerprintsIndexed(source) }];
        for (const [path] of items) doomed.push({ type: "del", key: Keys.itemFingerprint(source, path) });
        await store.db.batch(doomed);
        reader = Store.make(store.db, { hash: sha256 });
      }
      const bounds = ["", ...new Set(cuts.flatMap((c) => (items.length === 0 ? [] : [items[c % items.length]![0]])))].sort(compare);
      const remote = await reader.fingerprints(source, bounds, null);
      const expected = bounds.map((gte, i) =>
        Fingerprint.ofItems(sha256, items.filter(([p]) => compare(p, gte) >= 0 && (bounds[i + 1] === undefined || compare(p, bounds[i + 1]!) < 0)).map(([p, e]) => [p, e.meta] as const))
      );
      return remote.every((fp, i) => Fingerprint.equals(fp, expected[i]!)) && Fingerprint.equals(await reader.fingerprint(source, Fingerprint.everything), Fingerprint.ofItems(sha256, items.map(([p, e]) => [p, e.meta] as const)));
    }), 25));

  test("law: several ranges' leaves read at once equal each range's metadata without manifests", () =>
    check(fc.asyncProperty(validLog, fc.array(fc.string({ unit: fc.constantFrom("a", "b", "c", "/", "é"), maxLength: 4 }), { maxLength: 8 }), fc.boolean(), fc.integer({ min: 1, max: 4 }), async (log, cuts, open, limit) => {
      const source = freshSource();
      await appendOk(store, source, renumber(log, source));
      const bounds = [...new Set(["", ...cuts])].sort(compare);
      const ranges = bounds.map((gte, i) => ({ gte, lt: bounds[i + 1] ?? (open ? null : "\uffff") }));
      const every = ranges.filter((_, i) => i % 2 === 0); // with gaps between them
      const pages = await store.leaves(source, every, limit);
      const one = await Promise.all(every.map((r) => store.metadata(source, r, limit, false)));
      return sameJson(pages, one);
    }), 25));

  test("the tree as of n equals folding the first n events", () =>
    check(fc.asyncProperty(validLog, fc.nat(), async (log, cut) => {
      const source = freshSource();
      const events = renumber(log, source);
      await appendOk(store, source, events);
      const n = cut % (events.length + 1);
      const expected = [...SortedMap.entries(View.fold(Catalogue.view)(events.slice(0, n)).items)].map(([p, e]) => [p, e.meta]);
      const actual: Array<unknown> = [];
      for await (const v of store.treeAsOf(source, n)) actual.push([v.path, v.meta]);
      return sameJson(actual, expected);
    }), 25));

  test("retention keeps the latest tree, checkpoints and later history; projections still equal a rebuild", () =>
    check(fc.asyncProperty(validLog, fc.nat(), async (log, c) => {
      const source = freshSource();
      const events = renumber(log, source);
      await appendOk(store, source, events);
      const cutoff = 1 + (c % (events.length + 1));
      await store.retain(source, { beforeSeq: cutoff });
      await store.collectChunks();
      const rebuilt = await store.replay(source);
      if (!sameJson(await dump(store, source), [...SortedMap.entries(rebuilt.catalogue.items)])) return false;
      if (!sameJson(await store.head(source), rebuilt.head)) return false;
      const checkpoints = events.filter((e) => e._tag === "CheckpointMarked" && e.seq < cutoff).map((e) => e.seq);
      for (const n of [...checkpoints, ...Array.from({ length: events.length - cutoff + 2 }, (_, i) => cutoff - 1 + i)]) {
        const expected = [...SortedMap.entries(View.fold(Catalogue.view)(events.slice(0, n)).items)].map(([p, e]) => [p, e.meta]);
        const actual: Array<unknown> = [];
        for await (const v of store.treeAsOf(source, n)) actual.push([v.path, v.meta]);
        if (!sameJson(actual, expected)) throw new Error(`tree as of ${n} differs after retention at ${cutoff}`);
      }
      for await (const [, entry] of store.catalogue(source)) {
        for (const ref of entry.manifest) if ((await store.chunk(ref.digest)) === undefined) throw new Error(`chunk ${ref.digest} was collected`);
      }
      const first = await store.log(source).next();
      return first.done === true ? cutoff > events.length : first.value.seq === cutoff;
    }), 25));

  test("collecting chunks frees the content only old versions used", async () => {
    const source = freshSource();
    const big = (n: number) => `${n} `.repeat(40_000);
    await appendOk(store, source, renumber([fileAt("a" as ItemPath, big(1), 1)], source));
    const first = fileAt("a" as ItemPath, big(2), 2) as Event.ItemCreated;
    const old = Model.localItem("a" as ItemPath, { text: big(1), mtimeMs: 1000 });
    await appendOk(store, source, renumber([{ ...first, _tag: "ItemWritten", base: { type: "file", digest: old.meta.digest }, ranges: [] } as Event.Event], source));
    const before = await store.stats();
    await store.retain(source, { beforeSeq: 3 });
    const freed = await store.collectChunks();
    const after = await store.stats();
    assert.ok(freed.chunks > 0 && after.chunkBytes < before.chunkBytes, JSON.stringify({ freed, before, after }));
    assert.equal((await store.history(source, "a" as ItemPath)).map((v) => v.seq), [2]);
    const target = join(dir, `retained-${source}`);
    assert.ok(E.isRight(await Restore.restore(store, source, { seq: 2 }, target)));
    assert.is(await readFile(join(target, "a"), "utf8"), big(2));
  });

  test("chunks read together equal those read one by one, in the order asked, a missing one undefined", async () => {
    const source = freshSource();
    const events = renumber(["alpha ".repeat(3000), "beta ".repeat(9000), "gamma", "delta ".repeat(20000)].map((t, i) => fileAt(`f${i}` as ItemPath, t, i + 1)), source);
    await appendOk(store, source, events);
    const digests = events.flatMap((e) => Event.chunksOf(e).map((c) => c.digest as string));
    const missing = "0".repeat(64);
    // Out of stored order, one twice, one the store lacks.
    const asked = [...digests].reverse().concat(digests[0]!, missing);
    const together = await store.chunks(asked);
    const one = await Promise.all(asked.map((d) => store.chunk(d)));
    assert.is(together.length, asked.length);
    asked.forEach((d, i) => assert.equal(together[i] === undefined ? undefined : [...together[i]!], one[i] === undefined ? undefined : [...one[i]!], d));
    assert.is(together.at(-1), undefined);
    assert.ok(together.slice(0, -1).every((c) => c !== undefined && c.length > 0));
  });

  test("replayed sequence numbers are idempotent", async () => {
    const source = freshSource();
    const events = renumber([fileAt("a" as ItemPath, "one", 1), fileAt("b" as ItemPath, "two", 2)], source);
    await appendOk(store, source, events);
    const again = await appendOk(store, source, events);
    assert.is(again.applied, 0);
    assert.is(again.replayed, 2);
    assert.is((await store.head(source))?.seq, 2);
  });

  test("restore of the latest tree reproduces exactly the appended files", async () => {
    const source = freshSource();
    const texts: Record<string, string> = { "a.txt": "alpha", "d/b.txt": "beta ".repeat(500), "d/e/c.txt": "", "é.txt": "unicode" };
    const events = renumber(Object.entries(texts).map(([p, t], i) => fileAt(p as ItemPath, t, i + 1)), source);
    await appendOk(store, source, events);
    const target = join(dir, `restore-${source}`);
    const out = await Restore.restore(store, source, { seq: events.length }, target);
    assert.ok(E.isRight(out), JSON.stringify(out));
    for (const [p, t] of Object.entries(texts)) assert.is(await readFile(join(target, p), "utf8"), t, p);
    const st = await lstat(join(target, "a.txt"));
    assert.is(Math.floor(st.mtimeMs), 1000);
    assert.equal((await readdir(target)).sort(), ["a.txt", "d", "é.txt"]);
  });

  test("a restored file reads back the millisecond its version was stored with", async () => {
    // Today's times in seconds as a double keep about a quarter of a microsecond: 50 consecutive
    // milliseconds include many that `ms / 1000` would set a hair below (read back one less).
    const source = freshSource();
    const base = 1_764_762_223_300;
    const events = renumber(Array.from({ length: 50 }, (_, i) => fileAt(`f${i}` as ItemPath, `file ${i}`, i + 1, null, base + i)), source);
    await appendOk(store, source, events);
    const target = join(dir, `restore-${source}`);
    assert.ok(E.isRight(await Restore.restore(store, source, { seq: events.length }, target)));
    for (let i = 0; i < 50; i++) assert.is(Math.floor((await lstat(join(target, `f${i}`))).mtimeMs), base + i, `f${i}`);
  });

  test("a file stamped before 1970 is stored, and restored with its time (not the time of the restore)", async () => {
    // Whole seconds: Deno cannot set a fraction of one before 1970 (Node can; the restore then keeps the second).
    const source = freshSource();
    const times = [-315_576_000_000, -86_400_000, -1_000];
    const events = renumber(times.map((t, i) => fileAt(`old${i}` as ItemPath, `old ${i}`, i + 1, null, t)), source);
    await appendOk(store, source, events);
    const target = join(dir, `restore-${source}`);
    assert.ok(E.isRight(await Restore.restore(store, source, { seq: events.length }, target)));
    for (const [i, t] of times.entries()) assert.is(Math.floor((await lstat(join(target, `old${i}`))).mtimeMs), t, `old${i}`);
  });

  test("restore recreates directories and links and never follows a link out of the target", async () => {
    const source = freshSource();
    const dirMeta = { type: "dir" as const, size: 0, mode: 0o750, mtimeMs: 2000, digest: null, linkTarget: null };
    const link = { type: "symlink" as const, size: 3, mode: 0o777, mtimeMs: 3000, digest: null, linkTarget: "../a.txt" };
    const id = (seq: number) => ({ source, seq, at: seq });
    const events: Array<Event.Event> = [
      { ...fileAt("a.txt" as ItemPath, "alpha", 1), source },
      Event.stamp(id(2), { _tag: "ItemCreated", path: "d" as ItemPath, meta: dirMeta, manifest: [], chunks: [], base: null, origin: "live" }),
      Event.stamp(id(3), { _tag: "ItemCreated", path: "d/empty" as ItemPath, meta: dirMeta, manifest: [], chunks: [], base: null, origin: "live" }),
      Event.stamp(id(4), { _tag: "ItemCreated", path: "d/link" as ItemPath, meta: link, manifest: [], chunks: [], base: null, origin: "live" }),
      { ...fileAt("d/b.txt" as ItemPath, "beta", 5), source },
    ];
    await appendOk(store, source, events);
    const outside = join(dir, `outside-${source}`);
    const target = join(dir, `target-${source}`);
    await mkdir(outside, { recursive: true });
    await mkdir(target, { recursive: true });
    await symlink(outside, join(target, "d"));
    const out = await Restore.restore(store, source, { seq: 5 }, target);
    assert.ok(E.isRight(out), JSON.stringify(out));
    assert.equal(await readdir(outside), []);
    assert.ok((await lstat(join(target, "d"))).isDirectory());
    assert.ok((await lstat(join(target, "d", "empty"))).isDirectory());
    assert.is(await readlink(join(target, "d", "link")), "../a.txt");
    assert.is(await readFile(join(target, "d", "b.txt"), "utf8"), "beta");
    assert.is((await lstat(join(target, "d"))).mode & 0o777, 0o750);
    const earlier = join(dir, `earlier-${source}`);
    assert.ok(E.isRight(await Restore.restore(store, source, { seq: 2 }, earlier)));
    assert.equal((await readdir(earlier)).sort(), ["a.txt", "d"]);
    assert.equal(await readdir(join(earlier, "d")), []);
  });

  test("restore replaces what stands where a file goes: a directory, a link (never written through), an older file", async () => {
    const source = freshSource();
    const events = renumber([fileAt("a" as ItemPath, "alpha", 1), fileAt("b" as ItemPath, "beta", 2), fileAt("c" as ItemPath, "gamma", 3)], source);
    await appendOk(store, source, events);
    const target = join(dir, `occupied-${source}`);
    const outside = join(dir, `outside-file-${source}`);
    await mkdir(join(target, "a", "inner"), { recursive: true });
    await writeFile(join(target, "a", "inner", "x"), "in the way");
    await writeFile(outside, "not to be touched");
    await symlink(outside, join(target, "b"));
    await writeFile(join(target, "c"), "older");
    const out = await Restore.restore(store, source, { seq: 3 }, target);
    assert.ok(E.isRight(out), JSON.stringify(out));
    for (const [p, t] of [["a", "alpha"], ["b", "beta"], ["c", "gamma"]] as const) {
      assert.ok((await lstat(join(target, p))).isFile(), p);
      assert.is(await readFile(join(target, p), "utf8"), t, p);
    }
    assert.is(await readFile(outside, "utf8"), "not to be touched");
    assert.equal((await readdir(target)).sort(), ["a", "b", "c"], "no temporary file left");
  });

  test("restore refuses a chunk damaged in the store instead of writing wrong bytes", async () => {
    const source = freshSource();
    const file = fileAt("damaged.txt" as ItemPath, "precious ".repeat(100), 1) as Event.ItemCreated;
    await appendOk(store, source, renumber([file], source));
    await withDamagedChunk(file.manifest[0]!.digest, async () => {
      const target = join(dir, `damaged-${source}`);
      const out = await Restore.restore(store, source, { seq: 1 }, target);
      assert.ok(E.isLeft(out) && out.left._tag === "DigestMismatch", JSON.stringify(out));
      assert.equal(await readdir(target), []);
    });
  });

  test("restore writes a file chunk by chunk: a chunk repeated in a row is fetched once, a damaged later chunk leaves the target's file as it was", async () => {
    const source = freshSource();
    // 64 KiB of one letter: max-size chunks (512 bytes here), all alike, and a different tail.
    const text = "z".repeat(64 * 1024) + "tail of the file";
    const file = fileAt("zeros.txt" as ItemPath, text, 1) as Event.ItemCreated;
    await appendOk(store, source, renumber([file], source));
    const target = join(dir, `repeated-${source}`);
    // At each fetch, how many bytes the file being restored already holds (streamed, not assembled first).
    const fetched: Array<readonly [string, number]> = [];
    const writtenSoFar = async (): Promise<number> => {
      const temp = (await readdir(target).catch(() => [])).find((n) => n.startsWith(".tidemark-restore-"));
      return temp === undefined ? -1 : (await lstat(join(target, temp))).size;
    };
    const counting: Restore.TreeSource = {
      treeAsOf: (s, q) => store.treeAsOf(s, q),
      hash: store.hash,
      chunk: async (d) => (fetched.push([d, await writtenSoFar()]), store.chunk(d)),
    };
    assert.ok(E.isRight(await Restore.restore(counting, source, { seq: 1 }, target)));
    assert.is(await readFile(join(target, "zeros.txt"), "utf8"), text);
    assert.ok(file.manifest.length > 100, `${file.manifest.length} chunks`);
    assert.is(fetched.length, new Set(file.manifest.map((c) => c.digest)).size);
    const tail = file.manifest[file.manifest.length - 1]!;
    assert.is(fetched[fetched.length - 1]![1], text.length - tail.size, "every chunk before the last was written before the last was fetched");
    // The store lost while the file is being written: the restore fails and leaves no temporary file.
    const lost: Restore.TreeSource = { ...counting, chunk: (d) => (d === tail.digest ? Promise.reject(new Error("connection lost")) : store.chunk(d)) };
    const broken = join(dir, `lost-${source}`);
    const failed = await Restore.restore(lost, source, { seq: 1 }, broken).then(() => "resolved", (e: Error) => e.message);
    assert.is(failed, "connection lost");
    assert.equal(await readdir(broken), []);
    await withDamagedChunk(tail.digest, async () => {
      await writeFile(join(target, "zeros.txt"), "kept");
      const out = await Restore.restore(store, source, { seq: 1 }, target);
      assert.ok(E.isLeft(out) && out.left._tag === "DigestMismatch", JSON.stringify(out));
      assert.equal(await readdir(target), ["zeros.txt"]);
      assert.is(await readFile(join(target, "zeros.txt"), "utf8"), "kept");
    });
  });

  test("restore leaves runs of zeros as holes: the file reads back equal, ending in zeros too, and takes a fraction of its size on disk", async () => {
    const source = freshSource();
    const zeros = (n: number) => "\u0000".repeat(n);
    const text = `head${zeros(512 * 1024)}middle${zeros(256 * 1024)}`;
    await appendOk(store, source, renumber([fileAt("disk.img" as ItemPath, text, 1)], source));
    const target = join(dir, `sparse-${source}`);
    assert.ok(E.isRight(await Restore.restore(store, source, { seq: 1 }, target)));
    const restored = join(target, "disk.img");
    assert.is(await readFile(restored, "utf8"), text);
    const st = await lstat(restored);
    assert.is(st.size, text.length);
    assert.ok(st.blocks * 512 < text.length / 4, `${st.blocks * 512} bytes on disk for ${text.length}`);
  });

  test("bad input is refused with a typed error and nothing is written", async () => {
    const source = freshSource();
    await appendOk(store, source, renumber([fileAt("a" as ItemPath, "one", 1)], source));
    const before = await dump(store, source);
    const statsBefore = await store.stats();
    const corrupt = fileAt("b" as ItemPath, "corrupt", 2) as Event.ItemCreated;
    const cases: ReadonlyArray<readonly [string, ReadonlyArray<unknown>]> = [
      ["SequenceGap", renumber([fileAt("b" as ItemPath, "x", 3)], source)],
      ["WrongSource", [fileAt("b" as ItemPath, "x", 2)]],
      ["InvalidEvent", [{ _tag: "ItemDeleted", source, seq: 2, at: 1, path: "../../etc/passwd", base: null, origin: "live" }]],
      ["InvalidEvent", [{ hello: "world" }]],
      ["StaleBase", renumber([fileAt("a" as ItemPath, "again", 2)], source)],
      ["ChunkMissing", renumber([{ ...fileAt("b" as ItemPath, "not sent", 2), chunks: [] } as Event.Event], source)],
      ["ChunkCorrupt", renumber([{ ...corrupt, chunks: [{ digest: corrupt.manifest[0]!.digest, bytes: new Uint8Array([1]) }] }], source)],
      ["EventTooLarge", renumber([{ ...corrupt, meta: { ...corrupt.meta, linkTarget: "x".repeat(17 * 1024 * 1024) } }], source)],
      ["SequenceGap", renumber([fileAt("b" as ItemPath, "ok", 2), fileAt("c" as ItemPath, "gap", 4)], source)],
    ];
    for (const [tag, events] of cases) {
      const out = await store.append(source, events);
      assert.ok(E.isLeft(out) && out.left._tag === tag, `${tag}: ${JSON.stringify(out).slice(0, 300)}`);
    }
    assert.equal(await dump(store, source), before);
    assert.equal(await store.stats(), statsBefore);
    assert.is((await store.head(source))?.seq, 1);
  });

  test("chunks are stored once across files and sources", async () => {
    const text = "shared content ".repeat(200);
    const a = freshSource();
    const b = freshSource();
    await appendOk(store, a, renumber([fileAt("x" as ItemPath, text, 1)], a));
    const mid = await store.stats();
    // As an agent would, the repeats carry no chunk bytes: the store already holds them.
    await appendOk(store, a, renumber([{ ...fileAt("y" as ItemPath, text, 2), chunks: [] } as Event.Event], a));
    await appendOk(store, b, renumber([{ ...fileAt("z" as ItemPath, text, 1), chunks: [] } as Event.Event], b));
    const after = await store.stats();
    assert.is(after.chunks, mid.chunks);
    assert.is(after.chunkBytes, mid.chunkBytes);
    assert.is(after.logicalBytes - mid.logicalBytes, 2 * text.length);
  });

  test("appends to different sources run concurrently and each stays ordered", async () => {
    const sources = [freshSource(), freshSource(), freshSource()];
    await Promise.all(sources.map(async (s) => {
      for (let i = 1; i <= 20; i++) await appendOk(store, s, renumber([fileAt(`f${i}` as ItemPath, `v${i}`, i)], s));
    }));
    for (const s of sources) {
      const seqs: Array<number> = [];
      for await (const e of store.log(s)) seqs.push(e.seq);
      assert.equal(seqs, Array.from({ length: 20 }, (_, i) => i + 1));
    }
  });

  test.run();
};
