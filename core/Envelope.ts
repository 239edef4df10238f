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
  // The value is copied with its bytes replaced by references (subtrees without bytes shared, not
  // copied), then stringified without a replacer: a replacer is a call into JS for every value, and
  // took about a third more time for a 64-event append. Bytes are recognised before `toJSON`, so a
  // subclass that has one (Node's Buffer) still goes into the byte area.
  const refer = (v: unknown, key: string): unknown => {
    if (typeof v !== "object" || v === null) return v;
    if (v instanceof Uint8Array) {
      blobs.push(v);
      const ref = { [BYTES_KEY]: [area, v.length] };
      area += v.length;
      return ref;
    }
    const toJSON = (v as { readonly toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") return refer(toJSON.call(v, key), key);
    if (Array.isArray(v)) {
      let copy: Array<unknown> | undefined;
      for (let i = 0; i < v.length; i++) {
        const referred = refer(v[i], String(i));
        if (referred !== v[i]) (copy ??= v.slice())[i] = referred;
      }
      return copy ?? v;
    }
    let copy: Record<string, unknown> | undefined;
    for (const k of Object.keys(v)) {
      const x = (v as Record<string, unknown>)[k];
      const referred = refer(x, k);
      if (referred !== x) (copy ??= { ...v })[k] = referred;
    }
    return copy ?? v;
  };
  const header = JSON.stringify(refer(value, ""));
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

/** True for a parsed object that is a byte reference (`{"$bytes": [offset, length]}` and nothing else). */
const isBytesRef = (v: Record<string, unknown>): v is { readonly [BYTES_KEY]: [number, number] } => {
  const ref = v[BYTES_KEY];
  return Array.isArray(ref) && ref.length === 2 && Object.keys(v).length === 1 &&
    ref.every((n) => typeof n === "number" && Number.isSafeInteger(n) && n >= 0);
};

/**
 * Replaces the byte references in a freshly parsed value by views into `area`, in place (parsing
 * with a reviver, a call into JS for every value, took three times as long for a 64-event append);
 * a reference out of bounds becomes null and is reported through `bad`.
 */
const resolveRefs = (v: unknown, area: Uint8Array, bad: { reason?: string }): unknown => {
  if (typeof v !== "object" || v === null) return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (typeof v[i] === "object" && v[i] !== null) v[i] = resolveRefs(v[i], area, bad);
    return v;
  }
  const o = v as Record<string, unknown>;
  if (isBytesRef(o)) {
    const [offset, length] = o[BYTES_KEY];
    if (offset + length <= area.length) return area.subarray(offset, offset + length);
    bad.reason ??= `byte reference ${offset}+${length} is outside the ${area.length}-byte area`;
    return null;
  }
  for (const k of Object.keys(o)) {
    const x = o[k];
    if (typeof x !== "object" || x === null) continue;
    const resolved = resolveRefs(x, area, bad);
    if (resolved !== x) o[k] = resolved;
  }
  return o;
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
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return E.left("envelope header is not valid JSON");
  }
  const bad: { reason?: string } = {};
  try {
    parsed = resolveRefs(parsed, area, bad);
  } catch {
    return E.left("envelope header is nested too deeply");
  }
  return bad.reason === undefined ? E.right(parsed) : E.left(bad.reason);
};
