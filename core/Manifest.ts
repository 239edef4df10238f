/**
 * Manifest — a file version as an ordered list of chunk references, and the maths of sending one.
 *
 * `diff` says which chunks of a target version the other side lacks; `assemble` rebuilds the
 * target's bytes from the chunks the receiver has plus the ones it was sent.
 *
 * @example
 * import * as Manifest from "./Manifest.ts";
 * const { manifest, chunks } = Manifest.build(bytes, params, sha256);
 * const lacking = Manifest.diff(manifest, (d) => storeHas(d));
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import * as Chunking from "./Chunking.ts";
import * as Digest from "./Digest.ts";

/** A reference to an immutable chunk: its digest and its size in bytes. @category models */
export const ChunkRef = t.type({ digest: Digest.Digest, size: t.number });
export type ChunkRef = t.TypeOf<typeof ChunkRef>;

const ChunkRefs = t.readonlyArray(ChunkRef);

const isChunkRef = (u: unknown): boolean => {
  if (typeof u !== "object" || u === null) return false;
  const r = u as { readonly digest?: unknown; readonly size?: unknown };
  return Digest.Digest.is(r.digest) && typeof r.size === "number";
};

/**
 * A file version: its chunks in order. A valid manifest is checked in one loop and returned as it
 * is, as io-ts's array of records would return it: a large file's manifest holds thousands of
 * entries, and the generic check took 1–4 ms for 4,000 of them once warm (9 ms cold; now 0.5 and
 * 2.6), at every event or reply that carries one. An invalid one gets the generic check's message.
 *
 * @category models
 */
export const Manifest: t.Type<ReadonlyArray<ChunkRef>, ReadonlyArray<t.OutputOf<typeof ChunkRef>>, unknown> = new t.Type(
  ChunkRefs.name,
  (u): u is ReadonlyArray<ChunkRef> => Array.isArray(u) && u.every(isChunkRef),
  (u, c) => (Array.isArray(u) && u.every(isChunkRef) ? t.success(u as ReadonlyArray<ChunkRef>) : ChunkRefs.validate(u, c)),
  ChunkRefs.encode,
);
export type Manifest = t.TypeOf<typeof Manifest>;

/** A chunk's bytes, addressed by digest. @category models */
export interface ChunkBytes {
  readonly digest: Digest.Digest;
  readonly bytes: Uint8Array;
}

/** A manifest together with the bytes of each distinct chunk in it. @category models */
export interface Chunked {
  readonly manifest: Manifest;
  readonly chunks: ReadonlyMap<Digest.Digest, Uint8Array>;
}

/**
 * Chunks `bytes` and hashes every chunk.
 *
 * @category constructors
 */
export const build = (bytes: Uint8Array, params: Chunking.ChunkingParams, hash: Digest.HashFunction): Chunked => {
  const manifest: Array<ChunkRef> = [];
  const chunks = new Map<Digest.Digest, Uint8Array>();
  for (const piece of Chunking.split(bytes, params)) {
    const digest = Digest.of(hash, piece);
    manifest.push({ digest, size: piece.length });
    if (!chunks.has(digest)) chunks.set(digest, piece);
  }
  return { manifest, chunks };
};

/**
 * `build`, faster when `previous` is the manifest `build` made (with the same params) of an earlier
 * version of the same file: wherever a chunk of the earlier version lies in the new bytes — at its
 * old offset (before a change) or moved by the change in size (after an insertion or deletion) —
 * and its digest matches, it is taken as it is, with no cut search (a cut depends only on the bytes
 * since the chunk's start); elsewhere the bytes are chunked as usual. The result equals `build`'s.
 * Hashing is needed anyway, so an append or a small insertion costs little more than a hash of the file
 * (less where `known` vouches for chunks: see `Source`).
 *
 * @example
 * rebuild(edited, build(original, params, sha256).manifest, params, sha256)  // = build(edited, params, sha256)
 * @category constructors
 */
export const rebuild = (bytes: Uint8Array, previous: Manifest, params: Chunking.ChunkingParams, hash: Digest.HashFunction, known?: Source["known"]): Chunked => {
  const chunks = new Map<Digest.Digest, Uint8Array>();
  const source: Source = { size: bytes.length, bytes: (from, to) => bytes.subarray(from, to), ...(known === undefined ? {} : { known }) };
  const manifest = rebuildFrom(source, previous, params, hash, (digest, piece) => {
    if (!chunks.has(digest)) chunks.set(digest, piece);
  });
  return { manifest, chunks };
};

/**
 * Where `rebuildFrom` reads a version: its size, its bytes by offset, and, optionally, what is
 * already known of where the earlier version's chunks lie (found elsewhere, say by other threads).
 *
 * @category models
 */
export interface Source {
  readonly size: number;
  /** The bytes at offsets `from`…`to`-1 (a view that need stay valid only until the next call). */
  readonly bytes: (from: number, to: number) => Uint8Array;
  /** Whether the earlier chunk `k` lies unchanged at offset `at`, when known (else its bytes are hashed). */
  readonly known?: (k: number, at: number) => boolean | undefined;
}

/**
 * `rebuild` of a version read through `source`: the bytes of a kept chunk are not asked for (unless
 * `onChunk` wants every chunk's bytes) nor hashed when `source.known` vouches for it, so a version
 * whose unchanged chunks were checked elsewhere costs only the reading and chunking of its changes.
 * `onChunk` is called with each chunk in order (its bytes valid only during the call).
 *
 * @example
 * rebuildFrom({ size: b.length, bytes: (f, t) => b.subarray(f, t) }, earlier, params, sha256)
 *   // = build(b, params, sha256).manifest
 * @category constructors
 */
export const rebuildFrom = (
  source: Source,
  previous: Manifest,
  params: Chunking.ChunkingParams,
  hash: Digest.HashFunction,
  onChunk?: (digest: Digest.Digest, bytes: Uint8Array) => void,
): Manifest => {
  const starts = new Map<number, number>();
  let offset = 0;
  for (const [k, c] of previous.entries()) {
    starts.set(offset, k);
    offset += c.size;
  }
  const shift = source.size - offset;
  const manifest: Array<ChunkRef> = [];
  let at = 0;
  while (at < source.size) {
    const kept = keptChunk(source, at, previous, starts.get(at) ?? starts.get(at - shift), params, hash);
    let end: number;
    let digest: Digest.Digest;
    if (kept === undefined) {
      const piece = source.bytes(at, Math.min(source.size, at + params.max));
      end = at + Chunking.chunkEnd(piece, 0, params);
      digest = Digest.of(hash, piece.subarray(0, end - at));
      onChunk?.(digest, piece.subarray(0, end - at));
    } else {
      end = at + previous[kept]!.size;
      digest = previous[kept]!.digest;
      if (onChunk !== undefined) onChunk(digest, source.bytes(at, end));
    }
    manifest.push({ digest, size: end - at });
    at = end;
  }
  return manifest;
};

/**
 * Whether the earlier chunk `k` lies unchanged at `at`: a full chunk (not the earlier last one,
 * which the end of the data cut, unless it ends the new data too) whose bytes hash to its digest.
 */
const keptChunk = (source: Source, at: number, previous: Manifest, k: number | undefined, params: Chunking.ChunkingParams, hash: Digest.HashFunction): number | undefined => {
  if (k === undefined) return undefined;
  const { size, digest } = previous[k]!;
  const end = at + size;
  const last = k === previous.length - 1;
  if (end > source.size || (last && end !== source.size) || (!last && (size <= params.min || size > params.max))) return undefined;
  const matches = source.known?.(k, at) ?? Digest.of(hash, source.bytes(at, end)) === digest;
  return matches ? k : undefined;
};

/** Total size of the version described. @category folding */
export const size = (manifest: Manifest): number => manifest.reduce((n, c) => n + c.size, 0);

/**
 * The digest of a whole version, computed from its chunk digests (so it costs no re-read of the data).
 *
 * @category folding
 */
export const contentDigest = (manifest: Manifest, hash: Digest.HashFunction): Digest.Digest =>
  Digest.ofText(hash, manifest.map((c) => `${c.digest}:${c.size}`).join(","));

/**
 * The distinct chunks of `target` that the other side lacks, in first-use order.
 *
 * @example
 * diff(newManifest, (d) => oldDigests.has(d))   // only the chunks around the edit
 * @category diffing
 */
export const diff = (target: Manifest, has: (digest: Digest.Digest) => boolean): ReadonlyArray<ChunkRef> => {
  const seen = new Set<string>();
  const out: Array<ChunkRef> = [];
  for (const c of target) {
    if (seen.has(c.digest) || has(c.digest)) continue;
    seen.add(c.digest);
    out.push(c);
  }
  return out;
};

/** The digests of a manifest, as a set. @category folding */
export const digests = (manifest: Manifest): ReadonlySet<string> => new Set(manifest.map((c) => c.digest));

/** A manifest named a chunk that could not be found, or found with the wrong size. @category errors */
export interface ChunkMissing {
  readonly _tag: "ChunkMissing";
  readonly digest: Digest.Digest;
}

/**
 * Rebuilds a version's bytes from a chunk lookup.
 *
 * @example
 * assemble(manifest, (d) => have.get(d) ?? sent.get(d))   // Right(bytes)
 * @category diffing
 */
export const assemble = (
  manifest: Manifest,
  lookup: (digest: Digest.Digest) => Uint8Array | undefined,
): E.Either<ChunkMissing, Uint8Array> => {
  const out = new Uint8Array(size(manifest));
  let offset = 0;
  for (const c of manifest) {
    const bytes = lookup(c.digest);
    if (bytes === undefined || bytes.length !== c.size) return E.left({ _tag: "ChunkMissing", digest: c.digest });
    out.set(bytes, offset);
    offset += c.size;
  }
  return E.right(out);
};

/** Two manifests name the same chunks in the same order. @category equivalence */
export const equals = (a: Manifest, b: Manifest): boolean =>
  a.length === b.length && a.every((c, i) => c.digest === b[i]!.digest && c.size === b[i]!.size);
