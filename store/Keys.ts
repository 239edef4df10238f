/**
 * Keys — the store's key layout on one ordered key-value database. Every key starts with a one-letter
 * table and NUL-separated parts; sequence numbers are 16 fixed-width hex digits (big-endian), so
 * byte order is numeric order and paths keep UTF-8 byte order.
 *
 * | table | key | value |
 * |---|---|---|
 * | `l` log | source, seq | the event without chunk bytes (Envelope) |
 * | `c` catalogue | source, path | current entry (JSON) |
 * | `f` item fingerprints | source, path | the 16 bytes the item adds to range fingerprints (one per catalogue entry) |
 * | `F` fingerprints indexed | source | present once every catalogue entry of the source has its `f` entry |
 * | `v` versions | source, path, seq | one version (JSON) |
 * | `h` heads | source | the source head (JSON) |
 * | `k` chunks | digest | chunk bytes |
 * | `s` statistics | source | the source's counters (JSON) |
 * | `b` snapshot | source | where retained history starts, and the head before it (JSON) |
 * | `g` generation | — | the store's random generation id (UTF-8) |
 *
 * @example
 * Keys.log("src", 42)   // "l\u0000src\u0000000000000000002a"
 *
 * @module
 */
const SEP = "\u0000";
const AFTER = "\u0001";

/** A sequence number as 16 hex digits. */
export const seqHex = (seq: number): string => seq.toString(16).padStart(16, "0");

export const log = (source: string, seq: number): string => `l${SEP}${source}${SEP}${seqHex(seq)}`;
export const logRange = (source: string) => ({ gte: `l${SEP}${source}${SEP}`, lt: `l${SEP}${source}${AFTER}` });
export const seqOfLogKey = (key: string): number => parseInt(key.slice(key.lastIndexOf(SEP) + 1), 16);

export const catalogue = (source: string, path: string): string => `c${SEP}${source}${SEP}${path}`;
export const catalogueRange = (source: string) => ({ gte: `c${SEP}${source}${SEP}`, lt: `c${SEP}${source}${AFTER}` });
export const pathOfCatalogueKey = (source: string, key: string): string => key.slice(`c${SEP}${source}${SEP}`.length);

export const itemFingerprint = (source: string, path: string): string => `f${SEP}${source}${SEP}${path}`;
export const itemFingerprintRange = (source: string) => ({ gte: `f${SEP}${source}${SEP}`, lt: `f${SEP}${source}${AFTER}` });
export const pathOfItemFingerprintKey = (source: string, key: string): string => key.slice(`f${SEP}${source}${SEP}`.length);
export const fingerprintsIndexed = (source: string): string => `F${SEP}${source}`;

export const version = (source: string, path: string, seq: number): string => `v${SEP}${source}${SEP}${path}${SEP}${seqHex(seq)}`;
export const allVersions = { gte: `v${SEP}`, lt: `v${AFTER}` };
export const versionRange = (source: string) => ({ gte: `v${SEP}${source}${SEP}`, lt: `v${SEP}${source}${AFTER}` });
export const versionsOfPath = (source: string, path: string) => ({
  gte: `v${SEP}${source}${SEP}${path}${SEP}`,
  lt: `v${SEP}${source}${SEP}${path}${AFTER}`,
});

export const head = (source: string): string => `h${SEP}${source}`;
export const headRange = { gte: `h${SEP}`, lt: `h${AFTER}` };
export const sourceOfHeadKey = (key: string): string => key.slice(2);

export const chunk = (digest: string): string => `k${SEP}${digest}`;
export const chunkRange = { gte: `k${SEP}`, lt: `k${AFTER}` };
export const digestOfChunkKey = (key: string): string => key.slice(2);

export const stats = (source: string): string => `s${SEP}${source}`;

export const snapshot = (source: string): string => `b${SEP}${source}`;

export const generation = "g";
