// Frame payloads: a message's header is deflated when that pays and reads back the same; damaged or
// oversize deflated headers are refused without throwing; a large byte area goes in pieces, uncopied.
import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import { deflateSync } from "node:zlib";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Payload from "../../adapters/wire/Payload.ts";
import * as Frame from "../../core/Frame.ts";
import type { SourceId } from "../../core/Codecs.ts";
import type * as Protocol from "../../core/Protocol.ts";
import { check } from "../property.ts";

const limit = 1 << 20;

/** A reply whose result mixes repetitive text (deflated above the threshold) and raw bytes. */
const reply = fc.record({
  id: fc.nat({ max: 1000 }),
  names: fc.array(fc.string({ maxLength: 40 }), { maxLength: 60 }),
  blob: fc.uint8Array({ maxLength: 2000 }),
}).map(({ id, names, blob }): Protocol.Message => ({ _tag: "Reply", id, more: false, result: { names, blob } }));

const roundTrip = (message: Protocol.Message): boolean => {
  const [payload] = Frame.push(Frame.reader(), Payload.encodeFrame(message)).frames;
  const back = Payload.decode(payload!, limit);
  return E.isRight(back) && JSON.stringify(back.right) === JSON.stringify(message) &&
    [...((back.right as { result: { blob: Uint8Array } }).result.blob)].join() === [...(message as { result: { blob: Uint8Array } }).result.blob].join();
};

/** A payload with the deflated bit set around the given header bytes. */
const deflatedPayload = (sent: Uint8Array): Uint8Array => {
  const out = new Uint8Array(4 + sent.length);
  new DataView(out.buffer).setUint32(0, (sent.length | 0x8000_0000) >>> 0);
  out.set(sent, 4);
  return out;
};

test("law: a message reads back the same whether or not its header was deflated", () => check(fc.property(reply, roundTrip), 300));

test("a frame with a large byte area is written in pieces, its blobs where they lie; it reads back the same", () => {
  const blobs = [new Uint8Array(50_000).fill(7), new Uint8Array(40_000).fill(9)];
  const message: Protocol.Message = { _tag: "PutChunks", chunks: blobs.map((bytes, i) => ({ digest: `${i}`.repeat(64), bytes })) } as unknown as Protocol.Message;
  const pieces = Payload.framePieces(message);
  assert.is(pieces.length, 3);
  assert.ok(pieces[1] === blobs[0] && pieces[2] === blobs[1], "the chunk bytes are not copied");
  const whole = Payload.encodeFrame(message);
  assert.is(whole.length, pieces.reduce((n, p) => n + p.length, 0));
  const [payload] = Frame.push(Frame.reader(), whole).frames;
  const back = Payload.decode(payload!, limit);
  assert.ok(E.isRight(back));
  const chunks = (back.right as unknown as { chunks: ReadonlyArray<{ bytes: Uint8Array }> }).chunks;
  assert.equal(chunks.map((c) => [c.bytes.length, c.bytes[0], c.bytes[c.bytes.length - 1]]), [[50_000, 7, 7], [40_000, 9, 9]]);
  assert.is(Payload.framePieces({ _tag: "Ping", at: 1 }).length, 1, "a small message is one piece");
});

test("a long header is deflated, a short one is not", () => {
  const long: Protocol.Message = { _tag: "Reply", id: 1, more: false, result: Array.from({ length: 50 }, (_, i) => ({ digest: "ab".repeat(32), size: i })) };
  const longFrame = Payload.encodeFrame(long);
  assert.ok((new DataView(longFrame.buffer).getUint32(4) & 0x8000_0000) !== 0, "deflated bit set");
  assert.ok(longFrame.length < JSON.stringify(long).length / 2, `deflated to ${longFrame.length} bytes`);
  const short = Payload.encodeFrame({ _tag: "Ping", at: 5 });
  assert.is(new DataView(short.buffer).getUint32(4) & 0x8000_0000, 0);
  assert.ok(roundTrip({ _tag: "Reply", id: 2, more: false, result: { names: ["x".repeat(2000)], blob: new Uint8Array([1, 2]) } }));
  const hello = Payload.encodeFrame({ _tag: "Hello", protocol: 2, role: "agent", source: "a-source-with-a-long-name-that-pads-the-header".repeat(3) as SourceId, lastSeq: 0 });
  assert.is(new DataView(hello.buffer).getUint32(4) & 0x8000_0000, 0, "handshake messages are never deflated");
});

test("a header deflated without the preset dictionary (as Deno's node:zlib does) is read all the same", () => {
  const message = { _tag: "Ack", seq: 123456 };
  const z = deflateSync(new TextEncoder().encode(JSON.stringify(message)));
  const out = Payload.decode(deflatedPayload(new Uint8Array(z.buffer, z.byteOffset, z.byteLength)), limit);
  assert.ok(E.isRight(out));
  assert.equal(out.right, message);
});

test("a deflated header that inflates past the limit is refused", () => {
  const bomb = deflateSync(new Uint8Array(4 * limit).fill(0x20));
  const out = Payload.decode(deflatedPayload(new Uint8Array(bomb.buffer, bomb.byteOffset, bomb.byteLength)), limit);
  assert.ok(E.isLeft(out));
  assert.match(out.left, /inflates to over/);
});

test("law: random bytes behind the deflated bit are refused, never thrown", () =>
  check(fc.property(fc.uint8Array({ maxLength: 400 }), (junk) => {
    Payload.decode(deflatedPayload(junk), limit);
    return true;
  }), 300));

test("a header length past the payload's end is refused", () => {
  const out = Payload.decode(new Uint8Array([0x80, 0, 0, 50, 1, 2, 3]), limit);
  assert.ok(E.isLeft(out));
  assert.match(out.left, /exceeds/);
});

test.run();
