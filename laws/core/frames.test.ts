import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as Envelope from "../../core/Envelope.ts";
import * as Frame from "../../core/Frame.ts";
import * as Protocol from "../../core/Protocol.ts";
import { junk } from "../arbitraries.ts";
import { check } from "../property.ts";
import { codecLaws, frameLaws } from "./laws.ts";

const payloads = fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 });
const cuts = fc.array(fc.nat({ max: 4000 }), { maxLength: 12 });

test("frames read back the same however the stream is cut", () => check(fc.property(payloads, cuts, frameLaws.cutAnywhere), 300));
test("a frame read keeps at most twice its size alive", () => check(fc.property(payloads, cuts, frameLaws.framesHoldLittle), 300));
test("a length over the limit is refused before any payload is buffered", () => check(fc.property(fc.integer({ min: 65, max: 2 ** 32 - 1 }), frameLaws.oversizeRefused)));
test("decoding junk as a message never throws", () => check(fc.property(junk, (u) => E.isLeft(Protocol.decode(u)) || E.isRight(Protocol.decode(u))), 500));

/** JSON values with byte strings anywhere among them. */
const withBytes = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.oneof(fc.string(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null)),
    fc.uint8Array({ maxLength: 40 }),
    fc.array(tie("value"), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie("value"), { maxKeys: 5 }),
  ),
})).value;

test("an envelope's header is the replacer's JSON, and decodes back to the value", () => check(fc.property(withBytes, codecLaws.headerIsTheReplacersOutput), 400));

test("a header nested past the stack's depth is refused, not thrown", () => {
  const depth = 200_000;
  const header = new TextEncoder().encode("[".repeat(depth) + "]".repeat(depth));
  const out = Envelope.decodeParts(header, new Uint8Array(0));
  assert.ok(E.isLeft(out), "a Left, with a reason");
});

test("a message with bytes crosses a frame and an envelope intact", () => {
  const chunk = new Uint8Array([1, 2, 3, 250]);
  const message = { _tag: "Reply", id: 7, more: false, result: [["d", chunk]] };
  const [frame] = Frame.push(Frame.reader(), Frame.encode(Envelope.encode(message))).frames;
  const decoded = E.flatMap(Protocol.decode)(Envelope.decode(frame!));
  assert.ok(E.isRight(decoded));
  assert.equal((decoded.right as { result: unknown }).result, [["d", chunk]]);
});

test("a Uint8Array subclass with toJSON (Node's Buffer) is carried as bytes", () => {
  class WithJson extends Uint8Array {
    toJSON() {
      return { type: "Buffer", data: [...this] };
    }
  }
  const decoded = Envelope.decode(Envelope.encode({ b: new WithJson([9, 8, 7]) }));
  assert.ok(E.isRight(decoded));
  const b = (decoded.right as { b: unknown }).b;
  assert.ok(b instanceof Uint8Array);
  assert.equal([...(b as Uint8Array)], [9, 8, 7]);
});

test("a query that names a bad source is refused by the codec", () => {
  const out = Protocol.decode({ _tag: "Query", id: 1, query: { _tag: "Head", source: "../etc" } });
  assert.ok(E.isLeft(out));
});

test.run();
