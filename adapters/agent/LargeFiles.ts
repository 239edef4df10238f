/**
 * LargeFiles — how the agent chunks what it reads: a small file from its bytes; a file over 1 MiB
 * without the copies and the hashing it can avoid. A large file changed since the version read
 * before has that version's unchanged chunks found by worker threads (`KeptChunks`, started ahead
 * by `placeChanged` for the files the stat cache shows changed), and only the bytes around its
 * changes read and chunked here; otherwise it is read whole into a reused buffer (a fresh one costs
 * more in page faults than its read) and only the chunks the store lacks are copied out.
 *
 * @example
 * const large = LargeFiles.make((path) => `/srv/data/${path}`);
 * large.placeChanged([{ path, key, size, previous }]);       // workers start looking
 * const { manifest, chunks } = await large.chunk(path, key, size, previous, true, storeHas);
 *
 * @module
 */
import * as Chunking from "../../core/Chunking.ts";
import * as Manifest from "../../core/Manifest.ts";
import { sha256 } from "../Sha256.ts";
import * as FileBytes from "./FileBytes.ts";
import * as KeptChunks from "./KeptChunks.ts";

/**
 * A file's manifest and chunks from its bytes; the manifest of the version read before (`previous`)
 * guides the chunking: its unchanged chunks need only their hash checked (not even that where
 * `known` vouches for them).
 *
 * @category chunking
 */
export const chunked = (read: Uint8Array, previous: Manifest.Manifest | undefined, known?: Manifest.Source["known"]) => {
  const bytes = new Uint8Array(read.buffer, read.byteOffset, read.byteLength); // a view, not a copy
  const built = previous === undefined ? Manifest.build(bytes, Chunking.defaultParams, sha256) : Manifest.rebuild(bytes, previous, Chunking.defaultParams, sha256, known);
  return { ...built, size: bytes.length };
};

/** A large file to chunk: its path, stat key and size now, and the manifest of the version read before. */
export interface Changed {
  readonly path: string;
  readonly key: string;
  readonly size: number;
  readonly previous: Manifest.Manifest;
}

/**
 * A chunker of the large files of the tree whose absolute paths `full` gives.
 *
 * @category constructors
 */
export const make = (full: (path: string) => string) => {
  const scratch = FileBytes.makeScratch();
  /** Searches for kept chunks started ahead, by path, with the stat key each was started for. */
  const placing = new Map<string, { readonly key: string; readonly places: Promise<KeptChunks.Places | undefined> }>();
  const placesOf = (path: string, key: string, size: number, previous: Manifest.Manifest): Promise<KeptChunks.Places | undefined> => {
    const started = placing.get(path);
    placing.delete(path);
    return started?.key === key ? started.places : KeptChunks.find(full(path), size, previous);
  };

  /**
   * Starts the search for kept chunks of these changed files (each will have to be read): worker
   * threads check their unchanged chunks while the agent's thread lists and compares the tree.
   */
  const placeChanged = (files: Iterable<Changed>): void => {
    placing.clear();
    for (const f of files) placing.set(f.path, { key: f.key, places: KeptChunks.find(full(f.path), f.size, f.previous) });
  };

  /**
   * `chunked` for a large file (`key` and `size` from its stat data now). Unless every chunk's bytes
   * are wanted (`withBytes` and nothing said of what the store holds), only the chunks `storeHas`
   * lacks come with bytes.
   */
  const chunk = async (path: string, key: string, size: number, previous: Manifest.Manifest | undefined, withBytes: boolean, storeHas?: ReadonlySet<string>) => {
    const places = previous === undefined || previous.length === 0 ? undefined : await placesOf(path, key, size, previous);
    // Mostly kept, and not every chunk's bytes wanted: only the changes are read here.
    if (places !== undefined && 2 * places.keptBytes >= size && (!withBytes || storeHas !== undefined)) {
      const manifest = FileBytes.rebuildAround(full(path), size, previous!, places.known);
      const chunks = manifest === undefined ? undefined : withBytes ? FileBytes.readParts(full(path), manifest, storeHas!) : new Map<string, Uint8Array>();
      if (chunks !== undefined) return { manifest: manifest!, chunks, size };
    }
    const into = withBytes && storeHas === undefined ? undefined : scratch.borrow(size);
    try {
      // Chunks whose bytes are sent are hashed here, whatever the workers found: the file may have changed since.
      const built = chunked(await FileBytes.readLarge(full(path), size, into), previous, withBytes ? undefined : places?.known);
      if (into === undefined) return built;
      const chunks = new Map<string, Uint8Array>();
      if (withBytes) for (const [digest, bytes] of built.chunks) if (!storeHas!.has(digest)) chunks.set(digest, bytes.slice());
      return { ...built, chunks };
    } finally {
      if (into !== undefined) scratch.giveBack(into);
    }
  };

  return { placeChanged, chunk };
};
