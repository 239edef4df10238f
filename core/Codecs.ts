/**
 * Codecs — small io-ts codecs for numbers, bytes and names shared by the domain codecs, and the one
 * place that turns io-ts validation errors into a readable line.
 *
 * @example
 * import { Seq, decodeWith } from "./Codecs.ts";
 * decodeWith(Seq)(0)   // Left("value 0 at <root>: expected a sequence number (integer >= 1)")
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";

const refine = <A>(name: string, is: (u: unknown) => u is A, expected: string): t.Type<A, A, unknown> =>
  new t.Type<A, A, unknown>(name, is, (u, c) => (is(u) ? t.success(u) : t.failure(u, c, expected)), (a) => a);

/** A non-negative safe integer (sizes, offsets, lengths). @category codecs */
export const Count = refine(
  "Count",
  (u): u is number => typeof u === "number" && Number.isSafeInteger(u) && u >= 0,
  "expected a non-negative integer",
);

/** A per-source sequence number: a safe integer >= 1. @category codecs */
export const Seq = refine(
  "Seq",
  (u): u is number => typeof u === "number" && Number.isSafeInteger(u) && u >= 1,
  "expected a sequence number (integer >= 1)",
);

/** Milliseconds since the Unix epoch (finite, may be fractional). @category codecs */
export const Millis = refine(
  "Millis",
  (u): u is number => typeof u === "number" && Number.isFinite(u) && u >= 0,
  "expected a time in milliseconds since the epoch",
);

/**
 * A file's modification time in milliseconds since the Unix epoch: finite, and before 1970 for a
 * file stamped so (an archive's entries often are). @category codecs
 */
export const FileTime = refine(
  "FileTime",
  (u): u is number => typeof u === "number" && Number.isFinite(u),
  "expected a file time in milliseconds since the epoch",
);

/** Raw bytes. @category codecs */
export const Bytes = refine(
  "Bytes",
  (u): u is Uint8Array => u instanceof Uint8Array,
  "expected bytes",
);

export interface SourceIdBrand {
  readonly SourceId: unique symbol;
}
/** A data source's name: 1–128 characters of `A-Z a-z 0-9 . _ -`, not starting with a dot. @category models */
export type SourceId = t.Branded<string, SourceIdBrand>;
export const SourceId = t.brand(
  t.string,
  (s): s is SourceId => /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/.test(s),
  "SourceId",
);

/** A checkpoint label: 1–200 characters, no control characters. @category codecs */
export const Label = refine(
  "Label",
  (u): u is string => typeof u === "string" && u.length > 0 && u.length <= 200 && !/[\u0000-\u001f\u007f]/.test(u),
  "expected a label of 1-200 printable characters",
);

const render = (u: unknown): string => {
  if (u instanceof Uint8Array) return `<${u.length} bytes>`;
  const s = typeof u === "string" ? JSON.stringify(u) : (() => {
    try {
      return JSON.stringify(u) ?? String(u);
    } catch {
      return String(u);
    }
  })();
  return s.length > 60 ? s.slice(0, 60) + "…" : s;
};

const isBranch = (type: t.Decoder<unknown, unknown> | undefined): boolean =>
  type instanceof t.UnionType || type instanceof t.IntersectionType;

/** The first validation error as one readable line. @category errors */
export const describeErrors = (errors: t.Errors): string => {
  const first = errors[0];
  if (first === undefined) return "invalid value";
  const path = first.context
    .filter((c, i) => c.key !== "" && !isBranch(first.context[i - 1]?.type))
    .map((c) => c.key)
    .join(".");
  const last = first.context[first.context.length - 1];
  const expected = first.message ?? `expected ${last?.type.name ?? "a valid value"}`;
  return `value ${render(first.value)} at ${path === "" ? "<root>" : path}: ${expected}`;
};

/**
 * Decodes untrusted input with a codec; never throws.
 *
 * @category decoding
 */
export const decodeWith = <A, O>(codec: t.Type<A, O, unknown>) => (u: unknown): E.Either<string, A> =>
  E.mapLeft(describeErrors)(codec.decode(u));
