/**
 * ItemPath — the key of a data item: a normalised, relative POSIX path.
 *
 * Keys sort in byte order of their UTF-8 encoding, which is the order LevelDB iterates in, so the
 * host's sorted listing and the store's catalogue can be merge-joined.
 *
 * @example
 * import * as ItemPath from "./ItemPath.ts";
 * ItemPath.parse("docs/a.txt");      // Right("docs/a.txt")
 * ItemPath.parse("../etc/passwd");   // Left({ _tag: "PathEscapesRoot", ... })
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { absurd } from "./Absurd.ts";

/** A validated item key. @category models */
export interface ItemPathBrand {
  readonly ItemPath: unique symbol;
}
export type ItemPath = t.Branded<string, ItemPathBrand>;

/** Why a raw path was refused. @category errors */
export type PathError =
  | { readonly _tag: "PathIsEmpty"; readonly raw: string }
  | { readonly _tag: "PathIsAbsolute"; readonly raw: string }
  | { readonly _tag: "PathHasNul"; readonly raw: string }
  | { readonly _tag: "PathEscapesRoot"; readonly raw: string }
  | { readonly _tag: "PathHasEmptySegment"; readonly raw: string }
  | { readonly _tag: "PathHasDotSegment"; readonly raw: string }
  | { readonly _tag: "PathNotUnicode"; readonly raw: string }
  | { readonly _tag: "PathTooLong"; readonly raw: string };

/** Longest key accepted, in UTF-16 code units (at most 4 UTF-8 bytes each is well inside PATH_MAX). */
export const maxLength = 4096;
/** Longest single segment (NAME_MAX is 255 bytes on Linux). */
export const maxSegmentLength = 255;

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const refuse = (tag: PathError["_tag"], raw: string): E.Either<PathError, ItemPath> =>
  E.left({ _tag: tag, raw });

/**
 * Validates a key in its strict form: no leading `/`, no empty, `.` or `..` segments, no NUL.
 *
 * @example
 * parse("a/b")   // Right("a/b")
 * parse("a//b")  // Left({ _tag: "PathHasEmptySegment", raw: "a//b" })
 * @category constructors
 */
export const parse = (raw: string): E.Either<PathError, ItemPath> => {
  if (raw.length === 0) return refuse("PathIsEmpty", raw);
  if (raw.includes("\u0000")) return refuse("PathHasNul", raw);
  if (raw.startsWith("/")) return refuse("PathIsAbsolute", raw);
  if (raw.length > maxLength) return refuse("PathTooLong", raw);
  if (loneSurrogate.test(raw)) return refuse("PathNotUnicode", raw);
  for (const segment of raw.split("/")) {
    if (segment === "..") return refuse("PathEscapesRoot", raw);
    if (segment === ".") return refuse("PathHasDotSegment", raw);
    if (segment.length === 0) return refuse("PathHasEmptySegment", raw);
    if (segment.length > maxSegmentLength) return refuse("PathTooLong", raw);
  }
  return E.right(raw as ItemPath);
};

/**
 * Normalises a relative path as a host might spell it (`./a//b/`, `a/./b`) into a key; `..`,
 * absolute paths and NUL stay refused. `normalise` is idempotent and its result never escapes the root.
 *
 * @example
 * normalise("./a//b/")  // Right("a/b")
 * normalise("a/../b")   // Left({ _tag: "PathEscapesRoot", raw: "a/../b" })
 * @category constructors
 */
export const normalise = (raw: string): E.Either<PathError, ItemPath> => {
  if (raw.includes("\u0000")) return refuse("PathHasNul", raw);
  if (raw.startsWith("/")) return refuse("PathIsAbsolute", raw);
  const segments = raw.split("/").filter((s) => s.length > 0 && s !== ".");
  if (segments.includes("..")) return refuse("PathEscapesRoot", raw);
  if (segments.length === 0) return refuse("PathIsEmpty", raw);
  return parse(segments.join("/"));
};

/** The readable reason for a refused path. @category errors */
export const describe = (error: PathError): string => {
  const what = JSON.stringify(error.raw.length > 80 ? error.raw.slice(0, 80) + "…" : error.raw);
  switch (error._tag) {
    case "PathIsEmpty": return `path ${what} is empty`;
    case "PathIsAbsolute": return `path ${what} is absolute; item paths are relative to the source root`;
    case "PathHasNul": return `path ${what} contains a NUL character`;
    case "PathEscapesRoot": return `path ${what} has a '..' segment and would escape the source root`;
    case "PathHasEmptySegment": return `path ${what} has an empty segment`;
    case "PathHasDotSegment": return `path ${what} has a '.' segment`;
    case "PathNotUnicode": return `path ${what} is not valid Unicode`;
    case "PathTooLong": return `path ${what} is too long`;
    default: return absurd(error);
  }
};

/** io-ts codec: a string that is a valid key. @category codecs */
export const ItemPath = new t.Type<ItemPath, string, unknown>(
  "ItemPath",
  (u): u is ItemPath => typeof u === "string" && E.isRight(parse(u)),
  (u, c) =>
    typeof u !== "string"
      ? t.failure(u, c, "item path must be a string")
      : E.match((e: PathError) => t.failure<ItemPath>(u, c, describe(e)), (p: ItemPath) => t.success(p))(parse(u)),
  (p) => p,
);

const sortUnit = (c: number): number => (c >= 0xe000 ? c - 0x800 : c >= 0xd800 ? c + 0x2000 : c);

/**
 * Compares two strings in byte order of their UTF-8 encodings (= code point order), without encoding them.
 *
 * @example
 * compare("a/b", "a.b") > 0   // true: '/' (0x2f) sorts after '.' (0x2e)
 * @category ordering
 */
export const compare = (a: string, b: string): -1 | 0 | 1 => compareSpans(a, 0, a.length, b, 0, b.length);

/**
 * Compares a[aFrom, aTo) with b[bFrom, bTo) as `compare` compares strings, without slicing them
 * (a key stored inside a longer text is compared in place).
 *
 * @example
 * compareSpans("x\0a/b\0", 2, 5, "a.b", 0, 3) > 0   // true
 * @category ordering
 */
export const compareSpans = (a: string, aFrom: number, aTo: number, b: string, bFrom: number, bTo: number): -1 | 0 | 1 => {
  const n = Math.min(aTo - aFrom, bTo - bFrom);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(aFrom + i);
    const y = b.charCodeAt(bFrom + i);
    if (x !== y) return sortUnit(x) < sortUnit(y) ? -1 : 1;
  }
  const la = aTo - aFrom;
  const lb = bTo - bFrom;
  return la === lb ? 0 : la < lb ? -1 : 1;
};

/**
 * The index of the first of `keys` (in key order) at or after `key`: `keys.length` when there is none.
 *
 * @example
 * firstAtOrAfter(["a", "c"], "b") // 1
 *
 * @category destructors
 */
export const firstAtOrAfter = (keys: ReadonlyArray<string>, key: string): number => firstAtOrAfterBy(keys.length, (i) => compare(keys[i]!, key));

/**
 * The index of the first of `count` items in key order that is at or after the key sought, where
 * `compareAt(i)` compares item i's key with it (as `compare` does): `count` when there is none. For
 * keys not held as an array of strings (a stat cache's text).
 *
 * @example
 * firstAtOrAfterBy(keys.length, (i) => compare(keys[i]!, "b")) // as firstAtOrAfter(keys, "b")
 *
 * @category destructors
 */
export const firstAtOrAfterBy = (count: number, compareAt: (i: number) => number): number => {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareAt(mid) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};

/** The parent directory's key, or `undefined` for a top-level item. @category destructors */
export const parent = (p: ItemPath): ItemPath | undefined => {
  const i = p.lastIndexOf("/");
  return i < 0 ? undefined : (p.slice(0, i) as ItemPath);
};

/**
 * The key of the entry `name` of directory `dir` (a valid key, or "" for the root), checking only
 * what the new segment adds: the same answer as `parse` of the joined path, at a fraction of its
 * cost for a directory listing's entries.
 *
 * @example
 * child("docs" as ItemPath, "a.txt") // Right("docs/a.txt")
 * child("", "..")                     // Left(PathEscapesRoot)
 *
 * @category constructors
 */
export const child = (dir: ItemPath | "", name: string): E.Either<PathError, ItemPath> => {
  const raw = dir === "" ? name : `${dir}/${name}`;
  if (name.length === 0 || name.includes("/") || name === "." || name === ".." || name.length > maxSegmentLength) return parse(raw);
  if (name.includes("\u0000")) return refuse("PathHasNul", raw);
  if (raw.length > maxLength) return refuse("PathTooLong", raw);
  if (loneSurrogate.test(name)) return refuse("PathNotUnicode", raw);
  return E.right(raw as ItemPath);
};

/** Joins a validated directory key and a validated relative key. @category combinators */
export const join = (dir: ItemPath, rest: ItemPath): ItemPath => `${dir}/${rest}` as ItemPath;

/**
 * Key bounds of everything strictly inside `dir`: after `dir/` and before `dir0` ('0' is the
 * character after '/'), so one range read covers the subtree in UTF-8 byte order.
 *
 * @category ordering
 */
export const subtreeBounds = (dir: string): { readonly gt: string; readonly lt: string } => ({ gt: dir + "/", lt: dir + "0" });

/** True when `p` lies strictly inside directory `dir`. @category guards */
export const isInside = (p: string, dir: string): boolean => p.length > dir.length + 1 && p.startsWith(dir + "/");
