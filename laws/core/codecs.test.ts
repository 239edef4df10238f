import fc from "fast-check";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as E from "fp-ts/lib/Either.js";
import * as Event from "../../core/Event.ts";
import { eventOfKind, junk } from "../arbitraries.ts";
import { check } from "../property.ts";
import { codecLaws } from "./laws.ts";

for (const kind of Event.allKinds) {
  test(`${kind} round-trips through its codec and the envelope`, () => check(fc.property(eventOfKind(kind), codecLaws.roundTrips)));
}
test("decoding junk never throws", () => check(fc.property(junk, codecLaws.junkNeverThrows), 500));
test("decoding random bytes never throws", () => check(fc.property(fc.uint8Array({ maxLength: 200 }), codecLaws.bytesNeverThrow), 500));

const hexText = (min: number, max: number) => fc.array(fc.constantFrom(..."0123456789abcdef"), { minLength: min, maxLength: max }).map((cs) => cs.join(""));
/** Chunk references, mostly well formed: digests of any length near the allowed ones, sizes that are not numbers, junk. */
const chunkRefLike = fc.oneof(
  { weight: 8, arbitrary: fc.record({ digest: fc.oneof(hexText(14, 130), fc.constant("A".repeat(64)), fc.string(), fc.nat()), size: fc.oneof(fc.nat(), fc.constant("7")) }) },
  { weight: 1, arbitrary: junk },
);
test("the manifest codec accepts, returns and refuses as io-ts's array of chunk references does", () =>
  check(fc.property(fc.oneof({ weight: 6, arbitrary: fc.array(chunkRefLike, { maxLength: 6 }) }, { weight: 1, arbitrary: junk }), codecLaws.manifestIsTheGenericArray), 1000));

test("a broken field is named in the error", () => {
  const out = Event.decode({ _tag: "ItemDeleted", source: "src", seq: 0, at: 1, path: "a", base: null, origin: "live" });
  assert.ok(E.isLeft(out));
  assert.match(out.left, /seq/);
  const unknown = Event.decode({ _tag: "Nope" });
  assert.ok(E.isLeft(unknown) && /unknown event kind/.test(unknown.left));
  const escaping = Event.decode({ _tag: "ItemDeleted", source: "src", seq: 1, at: 1, path: "../x", base: null, origin: "live" });
  assert.ok(E.isLeft(escaping) && /escape/.test(escaping.left), JSON.stringify(escaping));
});

test.run();
