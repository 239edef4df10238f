/**
 * Digest — strong content digests, as lowercase hex strings, and the hash function port.
 *
 * The core never hashes by itself: callers pass a {@link HashFunction} (SHA-256 from `node:crypto`
 * in the shell, anything deterministic in laws).
 *
 * @example
 * import * as Digest from "./Digest.ts";
 * Digest.toHex(new Uint8Array([0, 255]));   // "00ff"
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";

/** A function from bytes to a strong digest (for example SHA-256). @category models */
export type HashFunction = (bytes: Uint8Array) => Uint8Array;

export interface DigestBrand {
  readonly Digest: unique symbol;
}
/** A digest as lowercase hex, 16 to 128 characters. @category models */
export type Digest = t.Branded<string, DigestBrand>;

/** 16 to 128 lowercase hex digits, an even count (a loop: a manifest's thousands of digests are checked at each decode). */
const isDigestText = (s: string): boolean => {
  const n = s.length;
  if (n < 16 || n > 128 || n % 2 !== 0) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
};

/** io-ts codec for {@link Digest}. @category codecs */
export const Digest = t.brand(
  t.string,
  (s): s is Digest => isDigestText(s),
  "Digest",
);

const hexTable = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Bytes as lowercase hex. @category conversions */
export const toHex = (bytes: Uint8Array): string => {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += hexTable[bytes[i]!]!;
  return out;
};

/** Hex back to bytes; `Left` on odd length or a non-hex character. @category conversions */
export const fromHex = (hex: string): E.Either<string, Uint8Array> => {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return E.left(`not hex: ${hex.slice(0, 40)}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return E.right(out);
};

/** The digest of some bytes. @category constructors */
export const of = (hash: HashFunction, bytes: Uint8Array): Digest => toHex(hash(bytes)) as Digest;

const utf8 = new TextEncoder();

/** The digest of a string's UTF-8 bytes. @category constructors */
export const ofText = (hash: HashFunction, text: string): Digest => of(hash, utf8.encode(text));
