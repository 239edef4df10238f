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
