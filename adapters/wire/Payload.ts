/**
 * Payload — a protocol message as the bytes of one frame: an `Envelope` whose JSON header is
 * deflated when that pays (manifests, paths and event metadata are repetitive text; chunk bytes in
 * the byte area are left as they are, already random or compressed in practice).
 *
 * Layout of a payload: `u32 big-endian header field | header | byte area`. The header field's top
 * bit says the header is deflated (raw DEFLATE); its other 31 bits are the header's length as sent.
 * A payload with the bit clear is a plain `Envelope`.
 *
 * @example
 * import * as Payload from "./Payload.ts";
 * const frame = Payload.encodeFrame({ _tag: "Ping", at: 1 });           // length prefix included
 * Payload.decode(frame.subarray(4), 1 << 20)                           // Right({ _tag: "Ping", at: 1 })
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { deflateRawSync, inflateRawSync } from "node:zlib";
import * as Envelope from "../../core/Envelope.ts";
import * as Frame from "../../core/Frame.ts";
import * as Protocol from "../../core/Protocol.ts";

/** Headers longer than this are deflated (shorter ones gain too little for the work). */
export const deflateAbove = 512;

const deflatedBit = 0x8000_0000;

/** The header as sent, and whether it is deflated. */
const packHeader = (header: Uint8Array): { readonly bytes: Uint8Array; readonly deflated: boolean } => {
  if (header.length <= deflateAbove) return { bytes: header, deflated: false };
  const z = deflateRawSync(header, { level: 1 });
  return z.length < header.length ? { bytes: new Uint8Array(z.buffer, z.byteOffset, z.byteLength), deflated: true } : { bytes: header, deflated: false };
};

/**
 * Encodes a message as one whole frame (length prefix included), copying its bytes once.
 *
 * @category encoding
 */
export const encodeFrame = (message: Protocol.Message): Uint8Array => {
  const parts = Envelope.encodeParts(message);
  const header = packHeader(parts.header);
  const payloadBytes = 4 + header.bytes.length + parts.areaBytes;
  const out = new Uint8Array(Frame.prefixBytes + payloadBytes);
  const view = new DataView(out.buffer);
  view.setUint32(0, payloadBytes);
  view.setUint32(Frame.prefixBytes, (header.bytes.length | (header.deflated ? deflatedBit : 0)) >>> 0);
  out.set(header.bytes, Frame.prefixBytes + 4);
  Envelope.writeBlobs(out, Frame.prefixBytes + 4 + header.bytes.length, parts.blobs);
  return out;
};

const inflate = (bytes: Uint8Array, maxBytes: number): E.Either<string, Uint8Array> => {
  try {
    const out = inflateRawSync(bytes, { maxOutputLength: maxBytes });
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
