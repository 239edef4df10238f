/**
 * Frame — length-prefixed frames for a byte stream: `u32 big-endian payload length | payload`, with a
 * hard maximum size checked before a single payload byte is buffered. The reader is a pure reducer
 * over the chunks a socket delivers: it keeps references to the chunks of an incomplete frame and
 * copies them once, when the frame is complete; a frame that fills most of what it arrived in is
 * handed on as a view of it, not copied a second time.
 *
 * @example
 * import * as Frame from "./Frame.ts";
 * const wire = Frame.encode(new Uint8Array([1, 2, 3]));
 * const out = Frame.push(Frame.reader(1024), wire);
 * // out.frames = [Uint8Array [1, 2, 3]], out.error = undefined
 *
 * @module
 */

/** The default hard maximum payload size: 64 MiB. @category constants */
export const defaultMaxBytes = 64 * 1024 * 1024;

/** Bytes of the length prefix. @category constants */
export const prefixBytes = 4;

/**
 * Prefixes a payload with its length.
 *
 * @category encoding
 */
export const encode = (payload: Uint8Array): Uint8Array => {
  const out = new Uint8Array(prefixBytes + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length);
  out.set(payload, prefixBytes);
  return out;
};

/** The reader's state: the chunks of the incomplete frame and their total length. @category models */
export interface Reader {
  readonly maxBytes: number;
  readonly pending: ReadonlyArray<Uint8Array>;
  readonly pendingBytes: number;
}

/** Why a stream of frames cannot be read further. @category errors */
export interface Oversize {
  readonly _tag: "Oversize";
  readonly length: number;
  readonly maxBytes: number;
}

/** What one push produced: the complete frames, the reader for what follows, or the error. @category models */
export interface Pushed {
  readonly reader: Reader;
  readonly frames: ReadonlyArray<Uint8Array>;
  readonly error: Oversize | undefined;
}

/** An empty reader that refuses frames over `maxBytes`. @category constructors */
export const reader = (maxBytes: number = defaultMaxBytes): Reader => ({ maxBytes, pending: [], pendingBytes: 0 });

/** The readable reason for a refused frame. @category errors */
export const describeError = (e: Oversize): string => `frame of ${e.length} bytes is over the ${e.maxBytes}-byte limit`;

const concat = (parts: ReadonlyArray<Uint8Array>, total: number): Uint8Array => {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

const lengthOf = (bytes: Uint8Array, at: number): number => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(at);

/**
 * Feeds a chunk to the reader.
 *
 * @category decoding
 */
export const push = (r: Reader, chunk: Uint8Array): Pushed => {
  const parts = [...r.pending, chunk];
  const total = r.pendingBytes + chunk.length;
  if (total >= prefixBytes) {
    // A frame still incomplete after this chunk is kept as references, not copied again.
    const length = lengthOf(parts[0]!.length >= prefixBytes ? parts[0]! : concat(parts, total), 0);
    if (length > r.maxBytes) return { reader: reader(r.maxBytes), frames: [], error: { _tag: "Oversize", length, maxBytes: r.maxBytes } };
    if (total < prefixBytes + length) return { reader: { ...r, pending: parts, pendingBytes: total }, frames: [], error: undefined };
  }
  const frames: Array<Uint8Array> = [];
  let buffer = concat(parts, total);
  let at = 0;
  while (buffer.length - at >= prefixBytes) {
    const length = lengthOf(buffer, at);
    if (length > r.maxBytes) return { reader: reader(r.maxBytes), frames, error: { _tag: "Oversize", length, maxBytes: r.maxBytes } };
    if (buffer.length - at - prefixBytes < length) break;
    // A frame that fills most of the buffer is a view of it (the buffer is the reader's own copy, or a
    // chunk the socket will not reuse); a small one is copied, so it does not keep a large buffer alive.
    const frame = buffer.subarray(at + prefixBytes, at + prefixBytes + length);
    frames.push(2 * length >= buffer.length ? frame : frame.slice());
    at += prefixBytes + length;
  }
  buffer = buffer.subarray(at);
  return { reader: { ...r, pending: buffer.length === 0 ? [] : [buffer], pendingBytes: buffer.length }, frames, error: undefined };
};

/** Bytes of an incomplete frame held by the reader (a stalled frame shows here). @category destructors */
export const pendingBytes = (r: Reader): number => r.pendingBytes;
