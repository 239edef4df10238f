/**
 * Retention — drops history older than a cutoff and collects chunks no version references.
 *
 * `plan` keeps, for every item, its state at the cutoff and at every named checkpoint before it, and
 * every version from the cutoff on; it deletes the log before the cutoff and records a snapshot
 * (the cutoff and the source head just before it), so a replay — kept base versions, then the rest
 * of the log — still equals the live projections. The latest tree is never touched.
 *
 * @example
 * await store.retain("src", { beforeSeq: 1000 });   // then store.collectChunks()
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import * as Envelope from "../core/Envelope.ts";
import * as Event from "../core/Event.ts";
import type * as History from "../core/History.ts";
import * as SourceHead from "../core/SourceHead.ts";
import { type BatchOperation, type Database, entries, json, parseJson } from "./Database.ts";
import type { Chunks } from "./Chunks.ts";
import * as Keys from "./Keys.ts";

/** Where a source's retained history starts, and its head just before that. */
export interface Snapshot {
  readonly cutoff: number;
  readonly head: SourceHead.SourceHead;
}

export const readSnapshot = async (db: Database, source: string): Promise<Snapshot | undefined> => {
  const bytes = await db.get(Keys.snapshot(source));
  return bytes === undefined ? undefined : parseJson<Snapshot>(bytes);
};

/** The versions of one item (oldest first) that retention keeps for a cutoff and checkpoints before it. */
export const keptVersions = (versions: ReadonlyArray<History.Version>, cutoff: number, checkpoints: ReadonlyArray<number>): Set<History.Version> => {
  const kept = new Set(versions.filter((v) => v.seq >= cutoff));
  for (const point of [...checkpoints.filter((c) => c < cutoff), cutoff - 1]) {
    const state = [...versions].reverse().find((v) => v.seq <= point);
    if (state !== undefined) kept.add(state);
  }
  // A removal is worth keeping only after a kept version that it removes.
  for (const v of versions) {
    if (v.meta !== null || v.seq >= cutoff || !kept.has(v)) continue;
    const earlier = versions.filter((w) => w.seq < v.seq && kept.has(w));
    if (earlier.length === 0 || earlier[earlier.length - 1]!.meta === null) kept.delete(v);
  }
  return kept;
};

/** The operations that apply retention at `cutoff` to one source. */
export const plan = async (db: Database, source: string, cutoff: number): Promise<Array<BatchOperation>> => {
  const previous = await readSnapshot(db, source);
  let head = previous?.head ?? SourceHead.empty;
  const operations: Array<BatchOperation> = [];
  for await (const [key, bytes] of entries(db, { gte: Keys.logRange(source).gte, lt: Keys.log(source, cutoff) })) {
    const e = E.flatMap(Event.decode)(Envelope.decode(bytes));
    if (E.isLeft(e)) throw new Error(`the log of ${source} is damaged at ${key}: ${e.left}`);
    head = SourceHead.view.evolve(head, e.right);
    operations.push({ type: "del", key });
  }
  const checkpoints = head.checkpoints.map((c) => c.seq);
  let group: Array<History.Version> = [];
  const flush = () => {
    const kept = keptVersions(group, cutoff, checkpoints);
    for (const v of group) if (!kept.has(v)) operations.push({ type: "del", key: Keys.version(source, v.path, v.seq) });
    group = [];
  };
  for await (const [, bytes] of entries(db, Keys.versionRange(source))) {
    const v = parseJson<History.Version>(bytes);
    if (group.length > 0 && group[0]!.path !== v.path) flush();
    group.push(v);
  }
  flush();
  operations.push({ type: "put", key: Keys.snapshot(source), value: json({ cutoff, head } satisfies Snapshot) });
  return operations;
};

/** Deletes every chunk that no version of any source references; returns how many and their bytes. */
export const collect = async (db: Database, chunks: Chunks): Promise<{ readonly chunks: number; readonly bytes: number }> => {
  const referenced = new Set<string>();
  for await (const [, bytes] of entries(db, Keys.allVersions)) {
    for (const c of parseJson<History.Version>(bytes).manifest) referenced.add(c.digest);
  }
  const unreferenced: Array<string> = [];
  let freed = 0;
  for await (const [digest, size] of chunks.list()) {
    if (referenced.has(digest)) continue;
    unreferenced.push(digest);
    freed += size;
  }
  if (unreferenced.length > 0) await db.batch(chunks.forget(unreferenced), { sync: true });
  return { chunks: unreferenced.length, bytes: freed };
};
