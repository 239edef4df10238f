// Events for the spool's tests (and the fixture that runs one under a file size limit).
import { randomBytes } from "node:crypto";
import { sha256 } from "../../adapters/Sha256.ts";
import * as Digest from "../../core/Digest.ts";
import type * as Event from "../../core/Event.ts";

export const identity = { source: "spooled", root: "/srv/data" };

/** An event creating `path` with `chunks` chunks of random bytes (some large). */
export const created = (seq: number, path: string, chunks: number): Event.Event => {
  const data = Array.from({ length: chunks }, (_, k) => new Uint8Array(randomBytes(k === 0 ? 70_000 : 300 + k)));
  const refs = data.map((bytes) => ({ digest: Digest.of(sha256, bytes), size: bytes.length }));
  const size = data.reduce((n, b) => n + b.length, 0);
  return {
    _tag: "ItemCreated",
    path,
    meta: { type: "file", size, mode: 0o644, mtimeMs: 1_700_000_000_000 + seq, digest: refs[0]?.digest ?? null, linkTarget: null },
    manifest: refs,
    chunks: refs.map((r, k) => ({ digest: r.digest, bytes: data[k]! })),
    base: null,
    origin: "live",
    source: identity.source,
    seq,
    at: 1_700_000_000_000 + seq,
  } as unknown as Event.Event;
};

