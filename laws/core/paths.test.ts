import fc from "fast-check";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as E from "fp-ts/lib/Either.js";
import * as ItemPath from "../../core/ItemPath.ts";
import { itemPath, rawPath } from "../arbitraries.ts";
import { check } from "../property.ts";
import { pathLaws, sortedMapLaws } from "./laws.ts";

test("normalise is idempotent", () => check(fc.property(rawPath, pathLaws.normaliseIsIdempotent), 500));
test("normalise never escapes the root", () => check(fc.property(rawPath, pathLaws.neverEscapesRoot), 500));
const longName = fc.constantFrom("x".repeat(255), "x".repeat(256));
const deepDir = Array.from({ length: 16 }, () => "d".repeat(250)).join("/") as ItemPath.ItemPath; // near the longest key
test("a directory entry's key, checked by its new segment, equals the joined path parsed", () =>
  check(fc.property(fc.oneof(fc.constant("" as const), itemPath, fc.constant(deepDir)), fc.oneof(rawPath, longName), pathLaws.childEqualsParse), 1000));
test("key order is UTF-8 byte order", () => check(fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), pathLaws.orderIsUtf8ByteOrder), 500));

const key = fc.string({ unit: fc.constantFrom("a", "b", "c", "/", "é"), maxLength: 6 });
const bound = fc.option(key, { nil: undefined });
test("a sorted map's range mapped at once equals it mapped entry by entry, and stays balanced", () =>
  check(fc.property(fc.array(key, { maxLength: 300 }), bound, bound, bound, fc.boolean(), (keys, gt, gte, lt, dropAll) =>
    sortedMapLaws.mapRangeIsTheFold(keys, { gt, gte, lt }, (k) => dropAll || k.length % 2 === 0)), 500));

test("a sorted map of keys to one value equals the map of those entries", () =>
  check(fc.property(fc.oneof(fc.array(key, { maxLength: 300 }), fc.uniqueArray(key, { maxLength: 300 }).map((ks) => [...ks].sort(ItemPath.compare))), sortedMapLaws.fromSortedKeysIsFromEntries), 500));

test("hostile paths are refused with a typed reason", () => {
  const cases: ReadonlyArray<readonly [string, ItemPath.PathError["_tag"]]> = [
    ["", "PathIsEmpty"],
    ["/etc/passwd", "PathIsAbsolute"],
    ["a/../../b", "PathEscapesRoot"],
    ["..", "PathEscapesRoot"],
    ["a\u0000b", "PathHasNul"],
    ["a//b", "PathHasEmptySegment"],
    ["a/./b", "PathHasDotSegment"],
    ["bad\ud800", "PathNotUnicode"],
    ["x".repeat(300), "PathTooLong"],
  ];
  for (const [raw, tag] of cases) {
    const out = ItemPath.parse(raw);
    assert.ok(E.isLeft(out) && out.left._tag === tag, `${JSON.stringify(raw)} → ${JSON.stringify(out)}`);
  }
  assert.equal(ItemPath.normalise("./a//b/"), E.right("a/b"));
  assert.ok(E.isLeft(ItemPath.normalise("a/../b")));
});

test.run();
