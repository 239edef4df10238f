/**
 * RecentChunks — the chunks a session has just read, kept for a moment: the base chunks a `Signatures`
 * query reads to sign them are read again, a few milliseconds later, by the append whose deltas they
 * rebuild. Bounded in bytes; the oldest go first. Chunks are content-addressed, so a kept chunk never
 * goes stale (one the store has since let go of still rebuilds the same bytes, which the append checks
 * against their digest anyway).
 *
 * @example
 * const recent = RecentChunks.make(store.chunk, 16 * 1024 * 1024);
 * await recent.read(digest);   // read from the store, and kept
 * await recent.read(digest);   // the kept bytes
 *
 * @module
 */

/** Reads chunks by digest, keeping the latest. */
export interface RecentChunks {
  readonly read: (digest: string) => Promise<Uint8Array | undefined>;
}

/**
 * Chunks read through `read`, the latest `maxBytes` of them kept.
 *
 * @category constructors
 */
export const make = (read: (digest: string) => Promise<Uint8Array | undefined>, maxBytes: number): RecentChunks => {
  const kept = new Map<string, Uint8Array>();
  let keptBytes = 0;
  const keep = (digest: string, bytes: Uint8Array): void => {
    if (kept.has(digest) || bytes.length > maxBytes) return;
    kept.set(digest, bytes);
    keptBytes += bytes.length;
    for (const [oldest, old] of kept) {
      if (keptBytes <= maxBytes) break;
      kept.delete(oldest);
      keptBytes -= old.length;
    }
  };
  return {
    read: async (digest) => {
      const hit = kept.get(digest);
      if (hit !== undefined) return hit;
      const bytes = await read(digest);
      if (bytes !== undefined) keep(digest, bytes);
      return bytes;
    },
  };
};
