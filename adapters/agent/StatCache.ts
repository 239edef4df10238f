/**
 * StatCache — the agent's stat cache as persisted, and as read back. A tree of 100,000 files has a
 * cache of about 27 MB, which `JSON.parse` took over half a second to read. Here each entry is one
 * record of NUL-separated fields (an item path cannot hold a NUL), written in key order
 * (`ItemPath.compare`). Read back (`Stored`), the cache is kept as its text and a table of where
 * each entry's fields lie: no object, map entry or string per entry until the entry is used (at
 * 100,000 entries those cost a start ~220 ms, most of it the collector's). An entry is found by a
 * binary search, and a sorted listing is matched against the whole cache in one pass.
 *
 * Text: a header line `tidemark stat cache 4`, then per entry
 * `path \0 key \0 readAt \0 print \0 digest \0 size,mode,mtimeMs;chunk:size,chunk:size… \0`.
 * `print` is the item's 128-bit fingerprint in hex, or empty when not computed. (Version 2 wrote
 * stat keys with times in fractional milliseconds: its entries would match nothing, so it is dropped.
 * Version 3 is version 4 whose entries may be out of key order — an older agent wrote them in the
 * order it read them: they are sorted once. Version 4 is always written in key order, and read back
 * without checking the order again, which cost ~20 ms at 100,000 entries.)
 *
 * @example
 * const text = StatCache.encode(entries);               // entries: [path, Cached] pairs
 * const stored = StatCache.decode(text);                // empty when the text is of another format
 * const i = StatCache.indexOf(stored, "docs/a.txt");    // -1 when not there
 * const entry = StatCache.entryAt(stored, i);           // a Cached, decoded as its fields are used
 *
 * @module
 */
import type * as Digest from "../../core/Digest.ts";
import * as Fingerprint from "../../core/Fingerprint.ts";
import type { ItemMeta } from "../../core/ItemMeta.ts";
import { compare, compareSpans, firstAtOrAfterBy } from "../../core/ItemPath.ts";
import type * as Manifest from "../../core/Manifest.ts";
import * as TreeScan from "./TreeScan.ts";

/** What the tree remembers of a file it read: its stat data then, when, and what it found. */
export interface Cached {
  readonly key: string;
  readonly readAt: number;
  readonly meta: ItemMeta;
  readonly manifest: Manifest.Manifest;
  /** The item's fingerprint (its path and `meta`), once computed. */
  print?: Fingerprint.Fingerprint | undefined;
}

const header = "tidemark stat cache 4\n";
/** Version 3's header: the same records, perhaps out of key order. */
const unsortedHeader = "tidemark stat cache 3\n";
const fieldsPerEntry = 6;
/** Numbers per entry in `Stored.starts`: where each field starts, then one past the entry's last NUL. */
const stride = fieldsPerEntry + 1;
const [pathField, keyField, readAtField, printField, digestField, restField] = [0, 1, 2, 3, 4, 5] as const;

const printText = (print: Fingerprint.Fingerprint | undefined): string =>
  print === undefined || print.count !== 1 ? "" : print.lanes.map((lane) => lane.toString(16).padStart(8, "0")).join("");

/** Each character code's value as a hex digit, or -1 (a fingerprint's 32 digits are read for every cached file). */
const hexDigits = Int8Array.from({ length: 128 }, (_, c) => (c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1));

/** The value of the 8 hex digits at text[from, from + 8), or -1 (read in place: slicing 400,000 of them cost 40 ms). */
const laneAt = (text: string, from: number): number => {
  let n = 0;
  for (let i = from; i < from + 8; i++) {
    const digit = hexDigits[text.charCodeAt(i)] ?? -1;
    if (digit < 0) return -1;
    n = n * 16 + digit;
  }
  return n;
};

/** The whole number written in decimal at text[from, to), read in place (anything else: as `Number` reads it). */
const wholeAt = (text: string, from: number, to: number): number => {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return Number(text.slice(from, to));
    n = n * 10 + (c - 48);
  }
  return to > from ? n : 0;
};

const restText = (entry: Cached): string =>
  `${entry.meta.size},${entry.meta.mode},${entry.meta.mtimeMs};${entry.manifest.map((c) => `${c.digest}:${c.size}`).join(",")}`;

/**
 * A stat cache read back: its text, where each entry's fields lie in it (`stride` numbers an entry,
 * entries in key order), and what entries decoded or learnt as they were used, by entry.
 */
export interface Stored {
  readonly text: string;
  readonly starts: Int32Array;
  readonly count: number;
  /** Kept once decoded, by entry, so an entry's `meta` is the same object at every use. */
  readonly metas: Map<number, ItemMeta>;
  readonly manifests: Map<number, Manifest.Manifest>;
  /** Per entry, whether its fingerprint is known (`printUnread`, `printNone`, `printKnown`), and its lanes when known. */
  readonly printStates: Uint8Array;
  readonly printLanes: Uint32Array;
  /**
   * Per entry, 1 once its fingerprint was learnt here rather than read from the text: only those
   * are written anew (writing every entry's lanes as hex cost a save of 10,000 entries ~30 ms).
   */
  readonly printsLearnt: Uint8Array;
}

const [printUnread, printNone, printKnown] = [0, 1, 2] as const;

/** Reads entry `i`'s written fingerprint (`printText`) into `printStates` and `printLanes`. */
const readPrint = (s: Stored, i: number): void => {
  const at = from(s, i, printField);
  s.printStates[i] = printNone;
  if (to(s, i, printField) - at !== 32) return;
  for (let lane = 0; lane < 4; lane++) {
    const value = laneAt(s.text, at + lane * 8);
    if (value < 0) return;
    s.printLanes[i * 4 + lane] = value;
  }
  s.printStates[i] = printKnown;
};

const stored = (text: string, starts: Int32Array): Stored => {
  const count = starts.length / stride;
  return { text, starts, count, metas: new Map(), manifests: new Map(), printStates: new Uint8Array(count), printLanes: new Uint32Array(count * 4), printsLearnt: new Uint8Array(count) };
};

/**
 * An empty stored cache.
 *
 * @category constructors
 */
export const empty: Stored = stored("", new Int32Array(0));

const from = (s: Stored, i: number, field: number): number => s.starts[i * stride + field]!;
/** Where field `field` of entry `i` ends (at its NUL). */
const to = (s: Stored, i: number, field: number): number => s.starts[i * stride + field + 1]! - 1;
const fieldText = (s: Stored, i: number, field: number): string => s.text.slice(from(s, i, field), to(s, i, field));

/**
 * An entry of a stored cache, read from the text as its fields are used. Whatever is decoded or
 * learnt is kept in the `Stored` (not in this object), so any two views of an entry agree.
 */
class StoredEntry implements Cached {
  readonly stored: Stored;
  readonly index: number;

  constructor(s: Stored, index: number) {
    this.stored = s;
    this.index = index;
  }

  get key(): string {
    return fieldText(this.stored, this.index, keyField);
  }

  get readAt(): number {
    return wholeAt(this.stored.text, from(this.stored, this.index, readAtField), to(this.stored, this.index, readAtField));
  }

  get print(): Fingerprint.Fingerprint | undefined {
    const s = this.stored;
    const i = this.index;
    if (s.printStates[i] === printUnread) readPrint(s, i);
    if (s.printStates[i] === printNone) return undefined;
    const l = s.printLanes;
    return { count: 1, lanes: [l[i * 4]!, l[i * 4 + 1]!, l[i * 4 + 2]!, l[i * 4 + 3]!] };
  }

  set print(print: Fingerprint.Fingerprint | undefined) {
    const s = this.stored;
    // Only single-item fingerprints are kept (the only kind an entry has).
    s.printStates[this.index] = print === undefined || print.count !== 1 ? printNone : printKnown;
    s.printsLearnt[this.index] = 1;
    if (print !== undefined) Fingerprint.copyLanes(print, s.printLanes, this.index * 4);
  }

  get digest(): Digest.Digest | null {
    const s = this.stored;
    return from(s, this.index, digestField) === to(s, this.index, digestField) ? null : (fieldText(s, this.index, digestField) as Digest.Digest);
  }

  get meta(): ItemMeta {
    const s = this.stored;
    let meta = s.metas.get(this.index);
    if (meta === undefined) {
      const rest = fieldText(s, this.index, restField);
      const [size, mode, mtimeMs] = rest.slice(0, rest.indexOf(";")).split(",").map(Number) as [number, number, number];
      meta = { type: "file", size, mode, mtimeMs, digest: this.digest, linkTarget: null };
      s.metas.set(this.index, meta);
    }
    return meta;
  }

  get manifest(): Manifest.Manifest {
    const s = this.stored;
    let manifest = s.manifests.get(this.index);
    if (manifest === undefined) {
      const rest = fieldText(s, this.index, restField);
      const chunks = rest.slice(rest.indexOf(";") + 1);
      manifest = chunks === "" ? [] : chunks.split(",").map((c) => {
        const colon = c.indexOf(":");
        return { digest: c.slice(0, colon) as Digest.Digest, size: Number(c.slice(colon + 1)) };
      });
      s.manifests.set(this.index, manifest);
    }
    return manifest;
  }

  /** The entry as written, with its fingerprint as now known. */
  text(): string {
    const s = this.stored;
    const i = this.index;
    const whole = s.text.slice(from(s, i, pathField), s.starts[i * stride + fieldsPerEntry]);
    if (s.printsLearnt[i] === 0) return whole;
    const at = from(s, i, pathField);
    return whole.slice(0, from(s, i, printField) - at) + printText(this.print) + whole.slice(to(s, i, printField) - at);
  }
}

/**
 * An entry's content digest, without decoding the metadata of an entry read back (counting the
 * digests of a whole cache of 10,000 files decoded every entry's metadata: ~20 ms).
 *
 * @example
 * StatCache.digestOf(entry) === entry.meta.digest
 * @category getters
 */
export const digestOf = (entry: Cached): Digest.Digest | null => (entry instanceof StoredEntry ? entry.digest : entry.meta.digest);

/**
 * Copies an entry's fingerprint lanes into `lanes` at `at`, without making a fingerprint object for
 * an entry read back; false (nothing copied) when the entry has no fingerprint yet.
 *
 * @example
 * if (!StatCache.copyPrint(entry, lanes, 4 * n)) Fingerprint.copyLanes(computed, lanes, 4 * n);
 * @category getters
 */
export const copyPrint = (entry: Cached, lanes: Uint32Array, at: number): boolean => {
  if (!(entry instanceof StoredEntry)) {
    if (entry.print === undefined) return false;
    Fingerprint.copyLanes(entry.print, lanes, at);
    return true;
  }
  const s = entry.stored;
  const i = entry.index;
  if (s.printStates[i] === printUnread) readPrint(s, i);
  if (s.printStates[i] !== printKnown) return false;
  // Lane by lane: a `subarray` to copy from would be an object per entry.
  for (let l = 0; l < 4; l++) lanes[at + l] = s.printLanes[i * 4 + l]!;
  return true;
};

/**
 * True when an entry's stat key is `key` (for an entry read back, compared in place).
 *
 * @example
 * StatCache.keyIs(entry, TreeScan.statKey(st))
 * @category getters
 */
export const keyIs = (entry: Cached, key: string): boolean => {
  if (!(entry instanceof StoredEntry)) return entry.key === key;
  const s = entry.stored;
  const at = from(s, entry.index, keyField);
  return to(s, entry.index, keyField) - at === key.length && s.text.startsWith(key, at);
};

/**
 * Where the whole number `value` is written at text[at, end) up to a ':' (or `end`): the index past
 * it, or -1 when something else is written there. `value` must be a safe integer ≥ 0.
 */
const wholeIsAt = (text: string, at: number, end: number, value: number): number => {
  const colon = text.indexOf(":", at);
  const stop = colon < 0 || colon > end ? end : colon;
  return stop > at && wholeAt(text, at, stop) === value ? stop + 1 : -1;
};

/** A safe whole number ≥ 0: written in a stat key as its digits. */
const whole = (v: number): boolean => Number.isSafeInteger(v) && v >= 0;

/**
 * True when an entry's stat key is `TreeScan.statKey(st)`, compared field by field for an entry read
 * back, without writing the key: in a fresh process writing it (five numbers as text) costs more than
 * the `lstat` that gave them, and a comparison makes one per file. Values that are not safe whole
 * numbers (a time before 1970, an inode number past 2^53) are compared as keys.
 *
 * @example
 * StatCache.statIs(entry, lstatSync(file))
 * @category getters
 */
export const statIs = (entry: Cached, st: TreeScan.StatData): boolean => {
  if (!(entry instanceof StoredEntry)) return entry.key === TreeScan.statKey(st);
  const [mtime, ctime] = [Math.round(st.mtimeMs * 1000), Math.round(st.ctimeMs * 1000)];
  if (!(whole(st.size) && whole(mtime) && whole(ctime) && whole(st.ino) && whole(st.mode))) return keyIs(entry, TreeScan.statKey(st));
  const { text } = entry.stored;
  const end = to(entry.stored, entry.index, keyField);
  let at = wholeIsAt(text, from(entry.stored, entry.index, keyField), end, st.size);
  if (at >= 0) at = wholeIsAt(text, at, end, mtime);
  if (at >= 0) at = wholeIsAt(text, at, end, ctime);
  if (at >= 0) at = wholeIsAt(text, at, end, st.ino);
  if (at >= 0) at = wholeIsAt(text, at, end, st.mode);
  return at === end + 1;
};

/**
 * The number of entries of a stored cache.
 *
 * @category getters
 */
export const size = (s: Stored): number => s.count;

/**
 * The path of entry `i` (0 ≤ i < size) of a stored cache; entries are in key order.
 *
 * @category getters
 */
export const pathAt = (s: Stored, i: number): string => fieldText(s, i, pathField);

/**
 * Entry `i` of a stored cache, as a `Cached` that decodes its fields as they are used.
 *
 * @category getters
 */
export const entryAt = (s: Stored, i: number): Cached => new StoredEntry(s, i);

/**
 * The file size in entry `i`'s stat key (a stat key starts with it), read without decoding the entry.
 *
 * @category getters
 */
export const sizeAt = (s: Stored, i: number): number => {
  let n = 0;
  for (let at = from(s, i, keyField); at < to(s, i, keyField); at++) {
    const c = s.text.charCodeAt(at);
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
  }
  return n;
};

/**
 * The inode number in a stat key (its fourth field, as written): a file keeps it when it is renamed
 * or its directory moves.
 *
 * @example
 * StatCache.inodeOfKey("12:1700000000000000:1700000000000000:4711:33188") // "4711"
 *
 * @category getters
 */
export const inodeOfKey = (key: string): string => key.split(":")[3] ?? "";

/**
 * The inode number in entry `i`'s stat key (`inodeOfKey`).
 *
 * @category getters
 */
export const inodeAt = (s: Stored, i: number): string => inodeOfKey(fieldText(s, i, keyField));

/**
 * Compares entry `i`'s path with `path` in key order (`ItemPath.compare`), in place.
 *
 * @category ordering
 */
export const comparePathAt = (s: Stored, i: number, path: string): -1 | 0 | 1 => compareSpans(s.text, from(s, i, pathField), to(s, i, pathField), path, 0, path.length);

/**
 * The index of the first entry whose path is at or after `path` in key order (`size` when none): a
 * binary search, entries being in key order.
 *
 * @category getters
 */
export const firstAtOrAfter = (s: Stored, path: string): number => firstAtOrAfterBy(s.count, (i) => comparePathAt(s, i, path));

/**
 * The index of the entry for `path`, or -1.
 *
 * @example
 * StatCache.indexOf(StatCache.decode(text), "docs/a.txt")
 * @category getters
 */
export const indexOf = (s: Stored, path: string): number => {
  const i = firstAtOrAfter(s, path);
  return i < s.count && comparePathAt(s, i, path) === 0 ? i : -1;
};

/**
 * Every entry of a stored cache with its path, in key order.
 *
 * @category getters
 */
export const entries = (s: Stored): Array<readonly [string, Cached]> => Array.from({ length: s.count }, (_, i) => [pathAt(s, i), entryAt(s, i)] as const);

const inKeyOrder = <A>(all: ReadonlyArray<readonly [string, A]>): boolean => all.every(([p], i) => i === 0 || compare(all[i - 1]![0], p) < 0);

/**
 * The text of a stat cache, entries in key order (sorted here when not given so). Only files are
 * cached, so every entry's type is "file" and it has no link target.
 *
 * @category encoding
 */
export const encode = (given: Iterable<readonly [string, Cached]>): string => {
  const all = [...given];
  if (!inKeyOrder(all)) all.sort((a, b) => compare(a[0], b[0]));
  const parts: Array<string> = [header];
  for (const [path, entry] of all) {
    // An entry read back is written as it was read, without decoding what was not used.
    if (entry instanceof StoredEntry) parts.push(entry.text());
    else parts.push(`${path}\0${entry.key}\0${entry.readAt}\0${printText(entry.print)}\0${entry.meta.digest ?? ""}\0${restText(entry)}\0`);
  }
  return parts.join("");
};

/** The table of `starts` put in key order by path (a cache written by an older agent is in reading order). */
const sortedStarts = (text: string, starts: Int32Array): Int32Array => {
  const s = stored(text, starts);
  const order = Array.from({ length: s.count }, (_, i) => i);
  const inOrder = order.every((i) => i === 0 || compareSpans(text, from(s, i - 1, pathField), to(s, i - 1, pathField), text, from(s, i, pathField), to(s, i, pathField)) < 0);
  if (inOrder) return starts;
  const paths = order.map((i) => pathAt(s, i));
  order.sort((a, b) => compare(paths[a]!, paths[b]!));
  const out = new Int32Array(starts.length);
  order.forEach((i, n) => out.set(starts.subarray(i * stride, (i + 1) * stride), n * stride));
  return out;
};

/**
 * A stat cache's text read back; empty when the text is of another format (an older agent's cache
 * is dropped, and the files are read again once).
 *
 * @category decoding
 */
export const decode = (text: string): Stored => {
  const sorted = text.startsWith(header);
  if (!sorted && !text.startsWith(unsortedHeader)) return empty;
  // Sized for entries of ~100 characters, grown when they are shorter.
  let starts = new Int32Array(stride * Math.ceil(text.length / 100));
  let n = 0;
  let at = header.length;
  while (at < text.length) {
    if (n + stride > starts.length) {
      const more = new Int32Array(starts.length * 2);
      more.set(starts);
      starts = more;
    }
    for (let f = 0; f < fieldsPerEntry; f++) {
      starts[n++] = at;
      const end = text.indexOf("\0", at);
      if (end < 0) return empty;
      at = end + 1;
    }
    starts[n++] = at;
  }
  const table = starts.slice(0, n);
  return stored(text, sorted ? table : sortedStarts(text, table));
};
