/**
 * Payload — a protocol message as the bytes of one frame: an `Envelope` whose JSON header is
 * deflated when that pays (manifests, paths and event metadata are repetitive text; chunk bytes in
 * the byte area are left as they are, already random or compressed in practice).
 *
 * Layout of a payload: `u32 big-endian header field | header | byte area`. The header field's top
 * bit says the header is deflated (zlib format); its other 31 bits are the header's length as sent.
 * A payload with the bit clear is a plain `Envelope`. Deflating starts from a preset dictionary of
 * the protocol's own JSON (field names and the shapes of common messages), so even a one-event
 * append or a short query shrinks. Handshake messages are never deflated: a peer of another protocol
 * version can still read the refusal that names its version. (Deno's `node:zlib` deflates without
 * the dictionary; zlib's format says whether a stream needs it, so either side reads the other.)
 *
 * @example
 * import * as Payload from "./Payload.ts";
 * const frame = Payload.encodeFrame({ _tag: "Ping", at: 1 });           // length prefix included
 * Payload.decode(frame.subarray(4), 1 << 20)                           // Right({ _tag: "Ping", at: 1 })
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { deflateSync, inflateSync } from "node:zlib";
import * as Envelope from "../../core/Envelope.ts";
import * as Frame from "../../core/Frame.ts";
import * as Protocol from "../../core/Protocol.ts";

/** Headers longer than this are deflated (shorter ones gain too little for the work). */
export const deflateAbove = 64;

const deflatedBit = 0x8000_0000;

const handshake: ReadonlySet<string> = new Set(["Hello", "Challenge", "Proof", "Welcome", "Refused"]);

const digest = "0".repeat(64);
const fileMeta = { type: "file", size: 1, mode: 420, mtimeMs: 1, digest, linkTarget: null };

/**
 * The preset dictionary: typical messages, the most frequent last (nearer matches cost fewer bits).
 * Part of the protocol: changing it changes the protocol version.
 */
const dictionary: Uint8Array = new TextEncoder().encode([
  { _tag: "Query", id: 1, query: { _tag: "Fingerprints", source: "", bounds: ["d0/e0/f1.dat"], last: null } },
  { _tag: "Query", id: 1, query: { _tag: "Held", digests: [digest] } },
  { _tag: "Query", id: 1, query: { _tag: "Signatures", digests: [digest] } },
  { _tag: "Query", id: 1, query: { _tag: "Items", source: "", paths: [""] } },
  { count: 1, lanes: [1, 1, 1, 1] },
  { _tag: "Reply", id: 1, more: false, result: [["", { meta: { ...fileMeta, type: "dir", mode: 493, digest: null }, manifest: [] }]], next: null },
  { _tag: "Ack", seq: 1 },
  { _tag: "ItemDeleted", path: "", base: { type: "file", digest }, origin: "resync", source: "", seq: 1, at: 1 },
  { _tag: "ItemCreated", path: "", meta: fileMeta, manifest: [{ digest, size: 1 }], chunks: [{ digest, bytes: { $bytes: [0, 1] } }], base: null, origin: "upload", source: "", seq: 1, at: 1 },
  {
    _tag: "Append",
    events: [{
      _tag: "ItemWritten",
      path: "",
      meta: fileMeta,
      manifest: [{ digest, size: 1 }],
      chunks: [{ digest, delta: { base: [digest], ops: [0, 0, 1, -1, 0, 1], literal: { $bytes: [0, 1] } } }, { digest, bytes: { $bytes: [0, 1] } }],
      base: { type: "file", digest },
      origin: "resync",
      ranges: [],
      source: "",
      seq: 1,
      at: 1,
    }],
  },
  { _tag: "Query", id: 1, query: { _tag: "Metadata", source: "", range: { gte: "", lt: null }, limit: 1000, manifests: false } },
  { _tag: "Reply", id: 1, more: false, result: { entries: [["", { meta: fileMeta, manifest: [] }]], next: null } },
].map((m) => JSON.stringify(m)).join(""));

/** The header as sent, and whether it is deflated. */
const packHeader = (tag: string, header: Uint8Array): { readonly bytes: Uint8Array; readonly deflated: boolean } => {
  if (header.length <= deflateAbove || handshake.has(tag)) return { bytes: header, deflated: false };
  const z = deflateSync(header, { level: 1, dictionary });
  return z.length < header.length ? { bytes: new Uint8Array(z.buffer, z.byteOffset, z.byteLength), deflated: true } : { bytes: header, deflated: false };
};

/** Byte areas smaller than this are copied into the frame's first piece (separate writes would cost more). */
const copiedAreaBytes = 64 * 1024;

/**
 * Encodes a message as one frame (length prefix included) in pieces to write in order: the prefix
 * and header, then a large byte area's blobs where they lie, not copied (an upload was copying every
 * chunk byte into its frame). The blobs must not change until written.
 *
 * @example
 * Payload.framePieces({ _tag: "Ping", at: 1 }).length   // 1: a small message is one piece
 * @category encoding
 */
export const framePieces = (message: Protocol.Message): ReadonlyArray<Uint8Array> => {
  const parts = Envelope.encodeParts(message);
  const header = packHeader(message._tag, parts.header);
  const payloadBytes = 4 + header.bytes.length + parts.areaBytes;
  const copied = parts.areaBytes < copiedAreaBytes;
  const headBytes = Frame.prefixBytes + 4 + header.bytes.length;
  const head = new Uint8Array(headBytes + (copied ? parts.areaBytes : 0));
  const view = new DataView(head.buffer);
  view.setUint32(0, payloadBytes);
  view.setUint32(Frame.prefixBytes, (header.bytes.length | (header.deflated ? deflatedBit : 0)) >>> 0);
  head.set(header.bytes, Frame.prefixBytes + 4);
  if (!copied) return [head, ...parts.blobs];
  Envelope.writeBlobs(head, headBytes, parts.blobs);
  return [head];
};

/**
 * A frame's pieces copied into one new array.
 *
 * @example
 * Payload.joinPieces(Payload.framePieces(message))   // the frame's bytes, a copy
 * @category encoding
 */
export const joinPieces = (pieces: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  Envelope.writeBlobs(out, 0, pieces);
  return out;
};

/**
 * Encodes a message as one whole frame (length prefix included).
 *
 * @category encoding
 */
export const encodeFrame = (message: Protocol.Message): Uint8Array => {
  const pieces = framePieces(message);
  return pieces.length === 1 ? pieces[0]! : joinPieces(pieces);
};

const inflate = (bytes: Uint8Array, maxBytes: number): E.Either<string, Uint8Array> => {
  try {
    const out = inflateSync(bytes, { dictionary, maxOutputLength: maxBytes });
    return E.right(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
  } catch {
    return E.left(`deflated header is damaged or inflates to over ${maxBytes} bytes`);
  }
};

/**
 * Decodes one frame's payload into a message, or says why it cannot; never throws. A deflated
 * header may not inflate to more than `maxHeaderBytes`.
 *
 * @category decoding
 */
export const decode = (payload: Uint8Array, maxHeaderBytes: number): E.Either<string, Protocol.Message> => {
  if (payload.length < 4) return E.left(`payload too short (${payload.length} bytes)`);
  const field = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0);
  const length = field & ~deflatedBit;
  if (length > payload.length - 4) return E.left(`header length ${length} exceeds the ${payload.length - 4} bytes present`);
  const sent = payload.subarray(4, 4 + length);
  const header = (field & deflatedBit) !== 0 ? inflate(sent, maxHeaderBytes) : E.right(sent);
  return E.flatMap(Protocol.decode)(E.flatMap((h: Uint8Array) => Envelope.decodeParts(h, payload.subarray(4 + length)))(header));
};
