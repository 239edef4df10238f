/**
 * StatCache — the persisted form of the agent's stat cache (`LocalTree.Cached` entries), made to be
 * read back fast: a tree of 100,000 files has a cache of about 30 MB, which `JSON.parse` took over
 * half a second to read, longer than the whole comparison of an unchanged tree. Here each entry is
 * one record of NUL-separated fields (an item path cannot hold a NUL): its path, stat key, time of
 * reading, fingerprint and content digest are taken when the cache is read; the rest (size, mode,
 * mtime and the manifest) only when an entry is used for more than matching its stat data.
 *
 * Text: a header line `tidemark stat cache 2`, then per entry
 * `path \0 key \0 readAt \0 print \0 digest \0 size,mode,mtimeMs;chunk:size,chunk:size… \0`.
 * `print` is the item's 128-bit fingerprint in hex, or empty when not computed.
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

const header = "tidemark stat cache 2\n";
const fieldsPerEntry = 6;

const printText = (print: Fingerprint.Fingerprint | undefined): string =>
  print === undefined || print.count !== 1 ? "" : print.lanes.map((lane) => lane.toString(16).padStart(8, "0")).join("");

const printOf = (text: string): Fingerprint.Fingerprint | undefined =>
  text.length !== 32
    ? undefined
    : { count: 1, lanes: [parseInt(text.slice(0, 8), 16), parseInt(text.slice(8, 16), 16), parseInt(text.slice(16, 24), 16), parseInt(text.slice(24), 16)] };

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
  const fields: Array<string> = new Array(fieldsPerEntry);
  let at = header.length;
  while (at < text.length) {
    for (let f = 0; f < fieldsPerEntry; f++) {
      const end = text.indexOf("\0", at);
      if (end < 0) return [];
      fields[f] = text.slice(at, end);
      at = end + 1;
    }
    const [path, key, readAt, print, digest, rest] = fields as [string, string, string, string, string, string];
    out.push([path, new StoredEntry(key, Number(readAt), printOf(print), digest === "" ? null : (digest as Digest.Digest), rest)]);
  }
  return out;
};
