import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { sha256 } from "../../adapters/Sha256.ts";
import * as Delta from "../../core/Delta.ts";
import * as Digest from "../../core/Digest.ts";
import { check } from "../property.ts";
import { deltaLaws } from "./laws.ts";

const data = fc.uint8Array({ minLength: 0, maxLength: 12 * 1024 });
const junkDelta = fc.record({
  base: fc.array(fc.constant("ab".repeat(32) as Digest.Digest), { maxLength: 2 }),
  ops: fc.array(fc.integer({ min: -3, max: 5000 }), { maxLength: 12 }),
  literal: fc.uint8Array({ maxLength: 64 }),
});

test("law: a delta rebuilds its target from its base", () => check(fc.property(data, data, deltaLaws.rebuildsTarget), 200));
test("law: an in-place edit costs about the bytes edited", () =>
  check(fc.property(fc.uint8Array({ minLength: 4096, maxLength: 32 * 1024 }), fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 200 }), (old, at, r) => deltaLaws.editCostsAboutTheEdit(old, at % old.length, r)), 200));
test("law: a piece's hash sees every byte of it, and nothing else", () =>
  check(fc.property(fc.uint8Array({ minLength: 1, maxLength: 2048 }), fc.nat(7), fc.nat(), fc.nat(), deltaLaws.pieceHashSeesEveryByte), 500));
test("law: applying a junk delta never throws", () => check(fc.property(junkDelta, fc.uint8Array({ maxLength: 3000 }), deltaLaws.applyNeverThrows), 500));

/** Deterministic high-entropy bytes (an LCG's top byte). */
const noise = (length: number, seed: number): Uint8Array => {
  let x = seed;
  return new Uint8Array(length).map(() => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24));
};

test("bytes inserted near the start cost about the insertion, not the chunk", () => {
  const old = noise(64 * 1024, 3);
  const target = new Uint8Array([...old.subarray(0, 1000), ...new TextEncoder().encode("inserted!"), ...old.subarray(1000)]);
  const base = { digest: Digest.of(sha256, old), signature: Delta.sign(old) };
  const delta = Delta.make(target, [base]);
  assert.ok(delta.literal.length < 3000, `${delta.literal.length} literal bytes`);
  assert.ok(base.signature.sizes.length * 11 < 2000, `signature of ${base.signature.sizes.length} pieces`);
  const rebuilt = Delta.apply(delta, () => old);
  assert.ok(E.isRight(rebuilt) && Digest.of(sha256, rebuilt.right) === Digest.of(sha256, target));
});

test("a missing base and an op outside its source are refused with a reason", () => {
  const delta = { base: ["cd".repeat(32) as Digest.Digest], ops: [0, 10, 5], literal: new Uint8Array(0) };
  const missing = Delta.apply(delta, () => undefined);
  assert.ok(E.isLeft(missing) && missing.left._tag === "BaseMissing");
  const outside = Delta.apply(delta, () => new Uint8Array(12));
  assert.ok(E.isLeft(outside));
  assert.match(Delta.describeError(outside.left), /reads 10\+5 of a 12-byte source/);
});

test.run();
