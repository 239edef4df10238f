/**
 * Envelope — a compact binary form for values that mix JSON data and raw bytes (events with chunk
 * bytes, wire messages): a JSON header in which every `Uint8Array` is replaced by a reference into a
 * trailing byte area. No base64, no copies on decode (the bytes are views into the input).
 *
 * Layout: `u32 big-endian header length | header (UTF-8 JSON) | byte area`.
 *
 * @example
 * import * as Envelope from "./Envelope.ts";
 * const bytes = Envelope.encode({ name: "a", data: new Uint8Array([1, 2]) });
 * Envelope.decode(bytes)   // Right({ name: "a", data: Uint8Array [1, 2] })
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";

const BYTES_KEY = "$bytes";
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/** A value split into its JSON header (UTF-8) and the byte strings its references point at, in order. @category models */
export interface Parts {
  readonly header: Uint8Array;
  readonly blobs: ReadonlyArray<Uint8Array>;
  /** Total length of the blobs: the byte area's size. */
  readonly areaBytes: number;
}

/**
 * Splits a value made of JSON data and `Uint8Array`s into its header and byte area, without copying
 * the bytes (a transport may transform the header before it writes both).
 *
 * @example
 * encodeParts({ data: new Uint8Array([1, 2]) })   // { header: '{"data":{"$bytes":[0,2]}}', blobs: [[1, 2]], areaBytes: 2 }
 * @category encoding
 */
export const encodeParts = (value: unknown): Parts => {
  const blobs: Array<Uint8Array> = [];
  let area = 0;
  // The holder's own property is checked, not `v`: a subclass with `toJSON` (Node's Buffer) has
  // already been turned into plain JSON by the time the replacer sees `v`.
  const header = JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
    const raw = this[key];
    if (raw instanceof Uint8Array) v = raw;
    if (v instanceof Uint8Array) {
      const ref = { [BYTES_KEY]: [area, v.length] };
      blobs.push(v);
      area += v.length;
      return ref;
    }
    return v;
  });
  return { header: utf8Encoder.encode(header), blobs, areaBytes: area };
};

/** Writes blobs one after another into `out` from `offset`. @category encoding */
export const writeBlobs = (out: Uint8Array, offset: number, blobs: ReadonlyArray<Uint8Array>): void => {
  for (const b of blobs) {
    out.set(b, offset);
    offset += b.length;
  }
};

/**
 * Encodes a value made of JSON data and `Uint8Array`s.
 *
 * @category encoding
 */
export const encode = (value: unknown): Uint8Array => {
  const { header, blobs, areaBytes } = encodeParts(value);
  const out = new Uint8Array(4 + header.length + areaBytes);
  new DataView(out.buffer).setUint32(0, header.length);
  out.set(header, 4);
  writeBlobs(out, 4 + header.length, blobs);
  return out;
};

const isBytesRef = (v: unknown): v is { readonly [BYTES_KEY]: [number, number] } => {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  const ref = (v as Record<string, unknown>)[BYTES_KEY];
  return keys.length === 1 && Array.isArray(ref) && ref.length === 2 &&
    ref.every((n) => typeof n === "number" && Number.isSafeInteger(n) && n >= 0);
};

/**
 * Decodes an envelope from untrusted bytes. Never throws: a short buffer, a bad length, invalid
 * UTF-8 or JSON, or a byte reference out of bounds gives a readable `Left`.
 *
 * @category decoding
 */
export const decode = (bytes: Uint8Array): E.Either<string, unknown> => {
  if (bytes.length < 4) return E.left(`envelope too short (${bytes.length} bytes)`);
  const headLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
  if (headLength > bytes.length - 4) return E.left(`envelope header length ${headLength} exceeds the ${bytes.length - 4} bytes present`);
  return decodeParts(bytes.subarray(4, 4 + headLength), bytes.subarray(4 + headLength));
};

/**
 * Decodes a header and its byte area given apart (a transport that transformed the header).
 * Never throws; the bytes of the value are views into `area`.
 *
 * @category decoding
 */
export const decodeParts = (header: Uint8Array, area: Uint8Array): E.Either<string, unknown> => {
  let text: string;
  try {
    text = utf8Decoder.decode(header);
  } catch {
    return E.left("envelope header is not valid UTF-8");
  }
  let bad: string | undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text, (_key, v: unknown) => {
      if (!isBytesRef(v)) return v;
      const [offset, length] = v[BYTES_KEY];
      if (offset + length > area.length) {
        bad ??= `byte reference ${offset}+${length} is outside the ${area.length}-byte area`;
        return null;
      }
      return area.subarray(offset, offset + length);
    });
  } catch {
    return E.left("envelope header is not valid JSON");
  }
  return bad === undefined ? E.right(parsed) : E.left(bad);
};
