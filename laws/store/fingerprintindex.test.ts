// The store's in-memory fingerprint index: after any sequence of sets and deletes (enough of them
// to split its blocks), every range's fingerprint is the combination of the item fingerprints of
// the keys then present in it, as a scan of the `f` projection gives.
import fc from "fast-check";
import { test } from "uvu";
import * as Fingerprint from "../../core/Fingerprint.ts";
import { compare } from "../../core/ItemPath.ts";
import * as FingerprintIndex from "../../store/FingerprintIndex.ts";
import { check } from "../property.ts";

const key = fc.string({ unit: fc.constantFrom("a", "b", "c", "/", "é", "z"), minLength: 1, maxLength: 7 });
const hash = fc.uint8Array({ minLength: 16, maxLength: 16 });
const change = fc.tuple(key, fc.option(hash, { nil: null }));

/** The index's range fingerprints equal the sums over the keys present, after the changes. */
const rangesEqualTheScan = (initial: ReadonlyArray<readonly [string, Uint8Array]>, changes: ReadonlyArray<readonly [string, Uint8Array | null]>, cuts: ReadonlyArray<string>, last: string | null): boolean => {
  const model = new Map<string, Uint8Array>();
  for (const [k, h] of initial) model.set(k, h);
  const sorted = [...model].sort((a, b) => compare(a[0], b[0]));
  const index = FingerprintIndex.fromSorted(sorted);
  FingerprintIndex.ranges(index, ["", "b"], null); // running sums computed before the changes must be recomputed after
  FingerprintIndex.apply(index, changes);
  for (const [k, h] of changes) h === null ? model.delete(k) : model.set(k, h);
  const bounds = [...new Set(["", ...cuts])].sort(compare).filter((b) => last === null || compare(b, last) < 0);
  if (bounds.length === 0) return true;
  const got = FingerprintIndex.ranges(index, bounds, last);
  return bounds.every((gte, i) => {
    const lt = bounds[i + 1] ?? last;
    const inside = [...model].filter(([k]) => compare(k, gte) >= 0 && (lt === null || compare(k, lt) < 0));
    const expected = inside.reduce((fp, [, h]) => Fingerprint.combine(fp, Fingerprint.fromItemHash(h)), Fingerprint.empty);
    return Fingerprint.equals(got[i]!, expected);
  }) && index.size === model.size;
};

test("law: the fingerprint index answers every range as a scan of the keys present would", () =>
  check(fc.property(fc.array(fc.tuple(key, hash), { maxLength: 700 }), fc.array(change, { maxLength: 900 }), fc.array(key, { maxLength: 12 }), fc.option(key, { nil: null }), rangesEqualTheScan), 60));

test("law: … also for one key added to an empty index that was asked before", () =>
  check(fc.property(key, hash, (k, h) => rangesEqualTheScan([], [[k, h]], [], null)), 20));
test("law: … also when changes grow one block past twice its size (it splits)", () =>
  check(fc.property(fc.array(change, { minLength: 600, maxLength: 1200 }), fc.array(key, { maxLength: 12 }), (changes, cuts) => rangesEqualTheScan([], changes, cuts, null)), 20));

test.run();
