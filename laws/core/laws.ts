/**
 * The core's laws as named predicates. Each returns true when the law holds for its inputs (or
 * throws with a reason); the generators that feed them live in `../arbitraries.ts`, the runners in
 * the `*.test.ts` files beside this one.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { decodeWith } from "../../core/Codecs.ts";
import * as Catalogue from "../../core/Catalogue.ts";
import * as Delta from "../../core/Delta.ts";
import * as Chunking from "../../core/Chunking.ts";
import * as Frame from "../../core/Frame.ts";
import * as Digest from "../../core/Digest.ts";
import * as Envelope from "../../core/Envelope.ts";
import * as Event from "../../core/Event.ts";
import * as Fingerprint from "../../core/Fingerprint.ts";
import * as History from "../../core/History.ts";
import type { ItemMeta } from "../../core/ItemMeta.ts";
import * as ItemPath from "../../core/ItemPath.ts";
import * as Manifest from "../../core/Manifest.ts";
import * as ResyncPlan from "../../core/ResyncPlan.ts";
import * as SortedMap from "../../core/SortedMap.ts";
import * as View from "../../core/View.ts";
import { sha256 } from "../../adapters/Sha256.ts";

const utf8 = new TextEncoder();
const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export const pathLaws = {
  /** A normalised path normalises to itself and is valid in strict form. */
  normaliseIsIdempotent: (raw: string): boolean => {
    const once = ItemPath.normalise(raw);
    return E.isLeft(once) || (sameJson(ItemPath.normalise(once.right), once) && sameJson(ItemPath.parse(once.right), once));
  },
  /** Whatever normalise accepts stays inside the root: relative, no `..`, `.` or empty segments, no NUL. */
  neverEscapesRoot: (raw: string): boolean => {
    const p = ItemPath.normalise(raw);
    if (E.isLeft(p)) return true;
    const segments = p.right.split("/");
    return !p.right.startsWith("/") && !p.right.includes("\u0000") && segments.every((s) => s !== ".." && s !== "." && s !== "");
  },
  /** A directory entry's key checked by its new segment alone is what parsing the joined path gives. */
  childEqualsParse: (dir: ItemPath.ItemPath | "", name: string): boolean =>
    sameJson(ItemPath.child(dir, name), ItemPath.parse(dir === "" ? name : `${dir}/${name}`)),
  /** Key order is the byte order of the UTF-8 encodings. */
  orderIsUtf8ByteOrder: (a: string, b: string): boolean => {
    const x = utf8.encode(a);
    const y = utf8.encode(b);
    let c = 0;
    for (let i = 0; i < Math.min(x.length, y.length) && c === 0; i++) c = Math.sign(x[i]! - y[i]!);
    if (c === 0) c = Math.sign(x.length - y.length);
    return ItemPath.compare(a, b) === c;
  },
};

export const codecLaws = {
  /** Encoding an event to bytes and decoding it gives the same event. */
  roundTrips: (e: Event.Event): boolean => {
    const decoded = E.flatMap(Event.decode)(Envelope.decode(Envelope.encode(e)));
    return E.isRight(decoded) && sameJson(Envelope.encode(decoded.right), Envelope.encode(e)) && Event.Event.is(decoded.right);
  },
  /** Decoding any value never throws; a refusal is a readable line. */
  junkNeverThrows: (u: unknown): boolean => {
    const out = Event.decode(u);
    return E.isRight(out) || (typeof out.left === "string" && out.left.length > 0);
  },
  /**
   * An envelope's header is what `JSON.stringify` with a replacer swapping each `Uint8Array` for its
   * reference (in the order met) writes — the plain definition the faster copy-then-stringify must
   * equal — and decoding gives the value back, bytes as bytes.
   */
  headerIsTheReplacersOutput: (value: unknown): boolean => {
    let area = 0;
    const expected = JSON.stringify(value, function (this: Record<string, unknown>, key, v: unknown) {
      const raw = this[key];
      if (!(raw instanceof Uint8Array)) return v;
      area += raw.length;
      return { $bytes: [area - raw.length, raw.length] };
    });
    const parts = Envelope.encodeParts(value);
    const decoded = Envelope.decode(Envelope.encode(value));
    const asText = (u: unknown) => JSON.stringify(u, (_, v: unknown) => (v instanceof Uint8Array ? `bytes:${[...v].join(",")}` : v));
    return new TextDecoder().decode(parts.header) === expected && parts.areaBytes === area &&
      E.isRight(decoded) && asText(decoded.right) === asText(value);
  },
  /** Decoding any bytes as an envelope never throws. */
  bytesNeverThrow: (bytes: Uint8Array): boolean => {
    const out = Envelope.decode(bytes);
    return E.isRight(out) || typeof out.left === "string";
  },
  /**
   * The manifest codec's one-loop check accepts what io-ts's array of chunk references accepts, gives
   * the same value (the input itself), and refuses the rest with the same message.
   */
  manifestIsTheGenericArray: (u: unknown): boolean => {
    const generic = t.readonlyArray(Manifest.ChunkRef);
    const [fast, slow] = [decodeWith(Manifest.Manifest)(u), decodeWith(generic)(u)];
    return E.isRight(fast) ? E.isRight(slow) && fast.right === u && slow.right === u && Manifest.Manifest.is(u) : E.isLeft(slow) && fast.left === slow.left && !Manifest.Manifest.is(u);
  },
};

export const chunkingLaws = {
  /** The same bytes always cut at the same places, and the chunks cover the input exactly. */
  isDeterministic: (bytes: Uint8Array, params: Chunking.ChunkingParams): boolean => {
    const a = Chunking.cutPoints(bytes, params);
    const b = Chunking.cutPoints(bytes.slice(), params);
    const sizesOk = a.every((end, i) => {
      const size = end - (a[i - 1] ?? 0);
      return size <= params.max && (size >= params.min || i === a.length - 1);
    });
    return sameJson(a, b) && (a[a.length - 1] ?? 0) === bytes.length && sizesOk;
  },
  /**
   * An edit at `at` changes only the chunks around it: every chunk that ends at or before the edit,
   * and every chunk after the first cut point the two versions share past the edit, is unchanged.
   */
  localEditIsLocal: (bytes: Uint8Array, at: number, params: Chunking.ChunkingParams): boolean => {
    const edited = bytes.slice();
    edited[at] = (edited[at]! + 1) & 0xff;
    const before = Chunking.cutPoints(bytes, params);
    const after = Chunking.cutPoints(edited, params);
    const resync = before.find((c) => c > at && after.includes(c)) ?? bytes.length;
    const outside = (cuts: ReadonlyArray<number>) => cuts.filter((c) => c <= at || c > resync);
    return sameJson(outside(before), outside(after)) && after.includes(resync);
  },
};

/** The height of a sorted map's tree (its nodes carry it). */
const heightOf = <V>(m: SortedMap.SortedMap<V>): number => (m.root === undefined ? 0 : (m.root as { readonly height: number }).height);

export const sortedMapLaws = {
  /** Mapping a range at once equals setting and removing its entries one by one, and the tree stays AVL-balanced. */
  mapRangeIsTheFold: (keys: ReadonlyArray<string>, bounds: SortedMap.Bounds, drop: (key: string) => boolean): boolean => {
    const m = SortedMap.fromEntries(keys.map((k, i) => [k, i] as const));
    const f = (k: string, v: number) => (drop(k) ? undefined : v + 1);
    let folded = m;
    for (const [k, v] of SortedMap.entries(m, bounds)) {
      const next = f(k, v);
      folded = next === undefined ? SortedMap.remove(folded, k) : SortedMap.set(folded, k, next);
    }
    const ranged = SortedMap.mapRange(m, bounds, f);
    const n = SortedMap.size(ranged);
    return sameJson([...SortedMap.entries(ranged)], [...SortedMap.entries(folded)]) && n === SortedMap.size(folded) &&
      heightOf(ranged) <= 1.45 * Math.log2(n + 2);
  },
  /** A map of keys to one value, sorted or not, equals the map of those entries, balanced. */
  fromSortedKeysIsFromEntries: (keys: ReadonlyArray<string>): boolean => {
    const shared = SortedMap.fromSortedKeys(keys, 1);
    const n = SortedMap.size(shared);
    return sameJson([...SortedMap.entries(shared)], [...SortedMap.entries(SortedMap.fromEntries(keys.map((k) => [k, 1] as const)))]) &&
      heightOf(shared) <= 1.45 * Math.log2(n + 2);
  },
};

export const manifestLaws = {
  /** Sending the chunks `diff` names and assembling with the receiver's old chunks rebuilds the target. */
  diffThenApplyReproduces: (old: Uint8Array, target: Uint8Array, params: Chunking.ChunkingParams): boolean => {
    const have = Manifest.build(old, params, sha256);
    const want = Manifest.build(target, params, sha256);
    const sent = new Map(Manifest.diff(want.manifest, (d) => have.chunks.has(d)).map((c) => [c.digest, want.chunks.get(c.digest)!]));
    const rebuilt = Manifest.assemble(want.manifest, (d) => have.chunks.get(d) ?? sent.get(d));
    const nothingExtra = [...sent.keys()].every((d) => !have.chunks.has(d));
    return E.isRight(rebuilt) && sameJson([...rebuilt.right], [...target]) && nothingExtra;
  },
  /** Chunking again with the earlier version's manifest as a guide gives exactly what chunking from scratch gives. */
  rebuildEqualsBuild: (earlier: Uint8Array, now: Uint8Array, params: Chunking.ChunkingParams): boolean => {
    const fresh = Manifest.build(now, params, sha256);
    const guided = Manifest.rebuild(now, Manifest.build(earlier, params, sha256).manifest, params, sha256);
    return sameJson(guided.manifest, fresh.manifest) && sameJson([...guided.chunks.keys()], [...fresh.chunks.keys()]) &&
      [...guided.chunks].every(([d, b]) => sameJson([...b], [...fresh.chunks.get(d)!]));
  },
  /**
   * Chunking guided by the earlier manifest through a small window that each read overwrites, with
   * the places of the chunks `vouched` picks told (truthfully) instead of hashed, gives what chunking
   * from scratch gives; every hash is of a piece read through the window.
   */
  rebuildFromWindowEqualsBuild: (earlier: Uint8Array, now: Uint8Array, params: Chunking.ChunkingParams, vouched: (k: number) => boolean): boolean => {
    const previous = Manifest.build(earlier, params, sha256).manifest;
    const window = new Uint8Array(params.max);
    const isAt = (k: number, at: number) => at + previous[k]!.size <= now.length && Digest.of(sha256, now.subarray(at, at + previous[k]!.size)) === previous[k]!.digest;
    const source: Manifest.Source = {
      size: now.length,
      bytes: (from, to) => {
        window.fill(0);
        window.set(now.subarray(from, to));
        return window.subarray(0, to - from);
      },
      known: (k, at) => (vouched(k) ? isAt(k, at) : undefined),
    };
    const hash: Digest.HashFunction = (bytes) => (bytes.buffer === window.buffer ? sha256(bytes) : new Uint8Array(32));
    return sameJson(Manifest.rebuildFrom(source, previous, params, hash), Manifest.build(now, params, sha256).manifest);
  },
};

/** The delta of `target` against `old`, rebuilt from `old` alone. */
const deltaRoundTrip = (old: Uint8Array, target: Uint8Array) => {
  const base = { digest: Digest.of(sha256, old), signature: Delta.sign(old) };
  const delta = Delta.make(target, [base]);
  return { delta, rebuilt: Delta.apply(delta, (d) => (d === base.digest ? old : undefined)) };
};

export const deltaLaws = {
  /** A delta against any base rebuilds its target exactly. */
  rebuildsTarget: (old: Uint8Array, target: Uint8Array): boolean => {
    const { rebuilt } = deltaRoundTrip(old, target);
    return E.isRight(rebuilt) && sameJson([...rebuilt.right], [...target]);
  },
  /** Replacing `length` bytes at `at` costs literal bytes of at most the edit plus a few pieces around it. */
  editCostsAboutTheEdit: (old: Uint8Array, at: number, replacement: Uint8Array): boolean => {
    const target = old.slice();
    target.set(replacement.subarray(0, target.length - at), at);
    const { delta, rebuilt } = deltaRoundTrip(old, target);
    return E.isRight(rebuilt) && delta.literal.length <= replacement.length + 3 * Delta.pieceParams.max;
  },
  /** A piece's hash depends on its bytes alone (not where they lie), and any one byte changed, or one added, changes it. */
  pieceHashSeesEveryByte: (bytes: Uint8Array, lead: number, at: number, flip: number): boolean => {
    const hashOf = (b: Uint8Array, from: number, to: number): string => {
      const out = new Uint8Array(8);
      Delta.pieceHash(b, from, to, out, 0);
      return Digest.toHex(out);
    };
    const placed = new Uint8Array(lead + bytes.length);
    placed.set(bytes, lead);
    const changed = bytes.slice();
    changed[at % bytes.length] = changed[at % bytes.length]! ^ (1 + (flip % 255));
    const plain = hashOf(bytes, 0, bytes.length);
    return plain === hashOf(placed, lead, placed.length) && plain !== hashOf(changed, 0, changed.length) && plain !== hashOf(new Uint8Array([...bytes, 0]), 0, bytes.length + 1);
  },
  /** Applying any delta never throws: it rebuilds something or says why not. */
  applyNeverThrows: (delta: Delta.Delta, base: Uint8Array): boolean => {
    const out = Delta.apply(delta, () => base);
    return E.isLeft(out) || out.right instanceof Uint8Array;
  },
};

const catalogueEntries = (c: Catalogue.Catalogue) => [c.head, [...SortedMap.entries(c.items)]];

export const projectionLaws = {
  /** Folding a log in two parts equals folding it at once. */
  foldSplits: (events: ReadonlyArray<Event.Event>, cut: number): boolean => {
    const a = events.slice(0, cut);
    const b = events.slice(cut);
    const fold = View.fold(Catalogue.view);
    return sameJson(catalogueEntries(fold(events)), catalogueEntries(fold(b, fold(a))));
  },
  /** Replaying events that were already applied changes nothing. */
  replayIsIdempotent: (events: ReadonlyArray<Event.Event>, cut: number): boolean => {
    const fold = View.fold(Catalogue.view);
    const once = fold(events);
    return sameJson(catalogueEntries(fold(events.slice(0, cut), once)), catalogueEntries(once));
  },
  /** The tree as of `n` from the history equals the catalogue of the first `n` events. */
  historyAsOfEqualsPrefixFold: (events: ReadonlyArray<Event.Event>, n: number): boolean => {
    let catalogue = Catalogue.empty;
    let history = History.empty;
    for (const e of events) {
      const updates = Catalogue.updatesFor(e, Catalogue.lookupIn(catalogue.items));
      if (E.isLeft(updates)) throw new Error(Catalogue.describeError(updates.left));
      history = History.record(history, e, updates.right);
      catalogue = E.getOrElse((): Catalogue.Catalogue => catalogue)(Catalogue.apply(catalogue, e));
    }
    const seq = events[n - 1]?.seq ?? 0;
    const prefix = View.fold(Catalogue.view)(events.slice(0, n));
    const asOf = Array.from(History.treeAsOf(SortedMap.values(history.versions), seq), (v) => [v.path, v.meta]);
    return sameJson(asOf, [...SortedMap.entries(prefix.items)].map(([p, e]) => [p, e.meta]));
  },
};

export const fingerprintLaws = {
  /** The fingerprint of a list equals the combination of the fingerprints of any split of it. */
  combinesOverSplit: (items: ReadonlyArray<readonly [string, ItemMeta]>, cut: number): boolean => {
    const whole = Fingerprint.ofItems(sha256, items);
    const parts = Fingerprint.combine(Fingerprint.ofItems(sha256, items.slice(0, cut)), Fingerprint.ofItems(sha256, items.slice(cut)));
    return Fingerprint.equals(whole, parts);
  },
  /** Any range of a listing is the whole-prefix fingerprint minus the shorter prefix (prefix sums). */
  prefixSubtraction: (items: ReadonlyArray<readonly [string, ItemMeta]>, i: number, j: number): boolean => {
    const [from, to] = i <= j ? [i, j] : [j, i];
    const range = Fingerprint.ofItems(sha256, items.slice(from, to));
    const viaPrefixes = Fingerprint.subtract(Fingerprint.ofItems(sha256, items.slice(0, to)), Fingerprint.ofItems(sha256, items.slice(0, from)));
    return Fingerprint.equals(range, viaPrefixes);
  },
  /** `sum` of a slice (absent prints skipped) equals combining its prints one by one. */
  sumIsTheFold: (items: ReadonlyArray<readonly [string, ItemMeta]>, holes: ReadonlyArray<boolean>, i: number, j: number): boolean => {
    const prints = items.map(([p, m], k) => (holes[k % Math.max(1, holes.length)] === true ? null : Fingerprint.ofItem(sha256, p, m)));
    const [from, to] = i <= j ? [i, j] : [j, i];
    const folded = prints.slice(from, to).reduce<Fingerprint.Fingerprint>((fp, x) => (x === null ? fp : Fingerprint.combine(fp, x)), Fingerprint.empty);
    return Fingerprint.equals(Fingerprint.sum(prints, from, to), folded);
  },
  /** `split` covers its range exactly, with adjacent, non-empty, ordered sub-ranges. */
  splitCoversRange: (keys: ReadonlyArray<string>, parts: number): boolean => {
    const ranges = Fingerprint.split(Fingerprint.everything, keys, parts);
    const adjacent = ranges.every((r, i) => i === 0 || ranges[i - 1]!.lt === r.gte);
    const ordered = ranges.every((r) => r.lt === null || ItemPath.compare(r.gte, r.lt) < 0);
    return ranges[0]!.gte === "" && ranges[ranges.length - 1]!.lt === null && adjacent && ordered &&
      keys.every((k) => ranges.filter((r) => Fingerprint.contains(r, k)).length === 1);
  },
};

export const planLaws = {
  /** Carrying out the plan on the store's listing yields the host's listing; renames only move equal content. */
  planReachesHost: (host: ReadonlyArray<ResyncPlan.Listed>, store: ReadonlyArray<ResyncPlan.Listed>): boolean => {
    const hostMap = new Map(host.map((l) => [l.path as string, l.meta]));
    const result = new Map(store.map((l) => [l.path as string, l.meta]));
    for (const a of ResyncPlan.plan(host, store)) {
      if (a._tag === "InSync") continue;
      if (a._tag === "Delete") result.delete(a.path);
      else if (a._tag === "Rename") {
        if (result.get(a.from)?.digest !== hostMap.get(a.to)?.digest) return false;
        result.delete(a.from);
        result.set(a.to, hostMap.get(a.to)!);
      } else result.set(a.path, hostMap.get(a.path)!);
    }
    const sorted = (m: Map<string, ItemMeta>) => [...m].sort((x, y) => ItemPath.compare(x[0], y[0]));
    return sameJson(sorted(result), sorted(hostMap));
  },
};

/** Laws of the wire's framing. */
export const frameLaws = {
  /** Frames written back to back and read in pieces cut at any points come out whole and in order. */
  cutAnywhere: (payloads: ReadonlyArray<Uint8Array>, cuts: ReadonlyArray<number>): boolean => {
    const stream = payloads.map(Frame.encode).reduce((a, b) => {
      const out = new Uint8Array(a.length + b.length);
      out.set(a);
      out.set(b, a.length);
      return out;
    }, new Uint8Array(0));
    const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
    let reader = Frame.reader(1024);
    const read: Array<Uint8Array> = [];
    let from = 0;
    for (const to of [...points, stream.length]) {
      const out = Frame.push(reader, stream.subarray(from, to));
      if (out.error !== undefined) return false;
      reader = out.reader;
      read.push(...out.frames);
      from = to;
    }
    return Frame.pendingBytes(reader) === 0 && read.length === payloads.length &&
      read.every((r, i) => r.length === payloads[i]!.length && r.every((x, j) => x === payloads[i]![j]));
  },
  /**
   * A frame read keeps at most twice its size alive: a large one may be a view of the bytes it arrived
   * in (not copied again), a small one is copied out of them. Each chunk here has a buffer of its own.
   */
  framesHoldLittle: (payloads: ReadonlyArray<Uint8Array>, cuts: ReadonlyArray<number>): boolean => {
    const stream = new Uint8Array(payloads.map(Frame.encode).flatMap((f) => [...f]));
    const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
    let reader = Frame.reader(1024);
    let from = 0;
    for (const to of [...points, stream.length]) {
      const out = Frame.push(reader, stream.slice(from, to));
      if (out.error !== undefined || out.frames.some((f) => f.buffer.byteLength > 2 * f.length)) return false;
      reader = out.reader;
      from = to;
    }
    return true;
  },
  /** A declared length over the limit is an error as soon as the prefix is read. */
  oversizeRefused: (length: number): boolean => {
    const prefix = new Uint8Array(4);
    new DataView(prefix.buffer).setUint32(0, length);
    const out = Frame.push(Frame.reader(64), prefix);
    return out.error?._tag === "Oversize" && out.error.length === length && out.frames.length === 0;
  },
};
