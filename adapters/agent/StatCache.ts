/**
 * StatCache — the persisted form of the agent's stat cache (`LocalTree.Cached` entries), made to be
 * read back fast: a tree of 100,000 files has a cache of about 30 MB, which `JSON.parse` took over
 * half a second to read, longer than the whole comparison of an unchanged tree. Here each entry is
 * one record of NUL-separated fields (an item path cannot hold a NUL): its path, stat key, time of
 * reading, fingerprint and content digest are taken when the cache is read; the rest (size, mode,
 * mtime and the manifest) only when an entry is used for more than matching its stat data.
 *
 * Text: a header line `tidemark stat cache 3`, then per entry
 * `path \0 key \0 readAt \0 print \0 digest \0 size,mode,mtimeMs;chunk:size,chunk:size… \0`.
 * `print` is the item's 128-bit fingerprint in hex, or empty when not computed. (Version 2 wrote
 * stat keys with times in fractional milliseconds: its entries would match nothing, so it is dropped.)
 *
 * @example
 * const text = StatCache.encode(tree.cached());
 * tree.remember(StatCache.decode(text)); // [] when the text is of another format
 *
 * @module
 */
import type * as Digest from "../../core/Digest.ts";
import type * as Fingerprint from "../../core/Fingerprint.ts";
import type { ItemMeta } from "../../core/ItemMeta.ts";
import type * as Manifest from "../../core/Manifest.ts";
import type { Cached } from "./LocalTree.ts";

const header = "tidemark stat cache 3\n";
const fieldsPerEntry = 6;

const printText = (print: Fingerprint.Fingerprint | undefined): string =>
  print === undefined || print.count !== 1 ? "" : print.lanes.map((lane) => lane.toString(16).padStart(8, "0")).join("");

/** The value of the hex digits text[from, to), or NaN (read in place: slicing 400,000 of them cost 40 ms). */
const hexAt = (text: string, from: number, to: number): number => {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : NaN;
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

/** The fingerprint written at text[from, to) (`printText`), or undefined when none is written there. */
const printAt = (text: string, from: number, to: number): Fingerprint.Fingerprint | undefined => {
  if (to - from !== 32) return undefined;
  const lanes: [number, number, number, number] = [hexAt(text, from, from + 8), hexAt(text, from + 8, from + 16), hexAt(text, from + 16, from + 24), hexAt(text, from + 24, to)];
  return lanes.some(Number.isNaN) ? undefined : { count: 1, lanes };
};

const restText = (entry: Cached): string =>
  `${entry.meta.size},${entry.meta.mode},${entry.meta.mtimeMs};${entry.manifest.map((c) => `${c.digest}:${c.size}`).join(",")}`;

/**
 * A cache entry read back: the fields that matching stat data needs at once, its metadata and
 * manifest decoded on first use (and then kept, so `meta` is the same object at every use).
 */
class StoredEntry implements Cached {
  readonly key: string;
  readonly readAt: number;
  print: Fingerprint.Fingerprint | undefined;
  readonly digest: Digest.Digest | null;
  /** The entry's size, mode, mtime and manifest as stored (entries do not change: a new read makes a new one). */
  readonly rest: string;
  private decodedMeta: ItemMeta | undefined = undefined;
  private decodedManifest: Manifest.Manifest | undefined = undefined;

  constructor(key: string, readAt: number, print: Fingerprint.Fingerprint | undefined, digest: Digest.Digest | null, rest: string) {
    this.key = key;
    this.readAt = readAt;
    this.print = print;
    this.digest = digest;
    this.rest = rest;
  }

  get meta(): ItemMeta {
    if (this.decodedMeta === undefined) {
      const [size, mode, mtimeMs] = this.rest.slice(0, this.rest.indexOf(";")).split(",").map(Number) as [number, number, number];
      this.decodedMeta = { type: "file", size, mode, mtimeMs, digest: this.digest, linkTarget: null };
    }
    return this.decodedMeta;
  }

  get manifest(): Manifest.Manifest {
    if (this.decodedManifest === undefined) {
      const chunks = this.rest.slice(this.rest.indexOf(";") + 1);
      this.decodedManifest = chunks === "" ? [] : chunks.split(",").map((c) => {
        const colon = c.indexOf(":");
        return { digest: c.slice(0, colon) as Digest.Digest, size: Number(c.slice(colon + 1)) };
      });
    }
    return this.decodedManifest;
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
 * The text of a stat cache. Only files are cached, so every entry's type is "file" and it has no
 * link target.
 *
 * @category encoding
 */
export const encode = (entries: Iterable<readonly [string, Cached]>): string => {
  const parts: Array<string> = [header];
  for (const [path, entry] of entries) {
    // An entry read back is written as it was read, without decoding what was not used.
    const [digest, rest] = entry instanceof StoredEntry ? [entry.digest, entry.rest] : [entry.meta.digest, restText(entry)];
    parts.push(`${path}\0${entry.key}\0${entry.readAt}\0${printText(entry.print)}\0${digest ?? ""}\0${rest}\0`);
  }
  return parts.join("");
};

/**
 * The entries of a stat cache's text; none when the text is of another format (an older agent's
 * cache is dropped, and the files are read again once).
 *
 * @category decoding
 */
export const decode = (text: string): ReadonlyArray<readonly [string, Cached]> => {
  if (!text.startsWith(header)) return [];
  const out: Array<readonly [string, Cached]> = [];
  // Where each field of an entry starts, and where the entry ends (one past its last NUL).
  const starts: Array<number> = new Array(fieldsPerEntry + 1);
  let at = header.length;
  while (at < text.length) {
    for (let f = 0; f < fieldsPerEntry; f++) {
      starts[f] = at;
      const end = text.indexOf("\0", at);
      if (end < 0) return [];
      at = end + 1;
    }
    starts[fieldsPerEntry] = at;
    const [path, key, readAt, print, digest, rest, end] = starts as [number, number, number, number, number, number, number];
    const digestText = text.slice(digest, rest - 1);
    out.push([
      text.slice(path, key - 1),
      new StoredEntry(text.slice(key, readAt - 1), wholeAt(text, readAt, print - 1), printAt(text, print, digest - 1), digestText === "" ? null : (digestText as Digest.Digest), text.slice(rest, end - 1)),
    ]);
  }
  return out;
};
