/**
 * Queries — how the store server answers a client's `Query`: each answer is one or more results
 * (`Tree` streams its versions in pages), or a readable failure. Checkpoints are not here: they are
 * written, so the server's session decides who writes them.
 *
 * @example
 * for await (const page of Queries.answer(store, { _tag: "Head", source }, registry, store.chunk)) send(page);
 *
 * @module
 */
import * as Delta from "../../core/Delta.ts";
import * as ItemPath from "../../core/ItemPath.ts";
import type * as Protocol from "../../core/Protocol.ts";
import type * as SourceHead from "../../core/SourceHead.ts";
import type { Store } from "../../store/Store.ts";

/** What the server knows of connected agents, for `Sources`. */
export interface AgentInfo {
  readonly peer: string;
  readonly since: number;
  readonly report: Protocol.AgentReport | null;
}

/** One source as `Sources` lists it. */
export interface SourceStatus {
  readonly source: string;
  readonly head: SourceHead.SourceHead;
  readonly agent: AgentInfo | null;
}

const pageSize = 256;
const maxChunksPerQuery = 256;
const maxItemsPerQuery = 4096;
const maxDigestsPerQuery = 4096;
const maxLeavesPerQuery = 256;

/** The mark of a source's last event: the agent compares it with the event it sent with that number. */
export const headMark = async (store: Store, source: string): Promise<Protocol.HeadMark | null> => {
  const head = await store.head(source);
  if (head === undefined || head.seq === 0) return null;
  for await (const e of store.log(source, head.seq)) return markOf(e);
  return null;
};

/** The mark of an event (kind, time and the path or label it names). */
export const markOf = (e: { readonly _tag: string; readonly seq: number; readonly at: number } & Partial<Record<"path" | "label", unknown>>): Protocol.HeadMark => ({
  seq: e.seq,
  at: e.at,
  kind: e._tag,
  name: typeof e.path === "string" ? e.path : typeof e.label === "string" ? e.label : null,
});

class QueryFailed extends Error {}

const checkPath = (path: string): string => {
  const parsed = ItemPath.parse(path);
  if (parsed._tag === "Left") throw new QueryFailed(`bad path ${JSON.stringify(path)}: ${ItemPath.describe(parsed.left)}`);
  return parsed.right;
};

async function* tree(store: Store, q: Extract<Protocol.Query, { _tag: "Tree" }>): AsyncGenerator<unknown> {
  const filters = q.paths.map(checkPath);
  const selected = (p: string) => filters.length === 0 || filters.some((f) => p === f || ItemPath.isInside(p, f));
  let page: Array<unknown> = [];
  for await (const v of store.treeAsOf(q.source, q.seq)) {
    if (!selected(v.path)) continue;
    page.push(v);
    if (page.length === pageSize) {
      yield page;
      page = [];
    }
  }
  yield page;
}

/**
 * The results answering a query, in order (all but `Tree` give exactly one). Throws `Error` with a
 * readable message when the query cannot be answered. `Signatures` reads the chunks it signs through
 * `readChunk` (a session keeps them for the append that follows).
 */
export async function* answer(
  store: Store,
  q: Exclude<Protocol.Query, { _tag: "Checkpoint" }>,
  agents: (source: string) => AgentInfo | null,
  readChunk: (digest: string) => Promise<Uint8Array | undefined>,
): AsyncGenerator<unknown> {
  switch (q._tag) {
    case "Sources": {
      const out: Array<SourceStatus> = [];
      for await (const [source, head] of store.sources()) out.push({ source, head, agent: agents(source) });
      yield out;
      return;
    }
    case "Head":
      yield { head: (await store.head(q.source)) ?? null, agent: agents(q.source), mark: await headMark(store, q.source) };
      return;
    case "Metadata":
      yield await store.metadata(q.source, q.range, Math.max(1, Math.min(q.limit, 4096)), q.manifests);
      return;
    case "Leaves": {
      if (q.ranges.length > maxLeavesPerQuery) throw new QueryFailed(`at most ${maxLeavesPerQuery} ranges per query`);
      const limit = Math.max(1, Math.min(q.limit, 4096));
      yield await store.leaves(q.source, q.ranges, limit);
      return;
    }
    case "Fingerprint":
      yield await store.fingerprint(q.source, q.range);
      return;
    case "Fingerprints":
      if (q.bounds.length > 256) throw new QueryFailed("at most 256 ranges per query");
      yield await store.fingerprints(q.source, q.bounds, q.last);
      return;
    case "Items":
      if (q.paths.length > maxItemsPerQuery) throw new QueryFailed(`at most ${maxItemsPerQuery} items per query`);
      yield await store.items(q.source, q.paths);
      return;
    case "History":
      yield await store.history(q.source, checkPath(q.path) as ItemPath.ItemPath);
      return;
    case "Tree":
      yield* tree(store, q);
      return;
    case "Chunks": {
      if (q.digests.length > maxChunksPerQuery) throw new QueryFailed(`at most ${maxChunksPerQuery} chunks per query`);
      const found = await store.chunks(q.digests);
      yield q.digests.map((d, i) => [d, found[i] ?? null] as const);
      return;
    }
    case "Held": {
      if (q.digests.length > maxDigestsPerQuery) throw new QueryFailed(`at most ${maxDigestsPerQuery} digests per query`);
      const held = await store.holds(q.digests);
      yield q.digests.flatMap((_, i) => (held[i] === true ? [i] : []));
      return;
    }
    case "Signatures": {
      if (q.digests.length > maxChunksPerQuery) throw new QueryFailed(`at most ${maxChunksPerQuery} chunks per query`);
      const out: Array<Delta.Signature | null> = [];
      // Read at once: each is a database lookup and a file read, a thread-pool round trip apiece.
      const chunks = await Promise.all(q.digests.map(readChunk));
      for (const [i, bytes] of chunks.entries()) {
        const signature = bytes === undefined ? null : Delta.sign(bytes);
        const probes = q.probes[i] ?? [];
        const shared = signature !== null && (probes.length === 0 || Delta.pieceHashes(signature).some((h) => probes.includes(h)));
        out.push(shared ? signature : null);
      }
      yield out;
      return;
    }
    case "SeqAt":
      yield await store.seqAt(q.source, q.at);
      return;
    case "Stats":
      yield await store.stats();
      return;
    default: {
      const never: never = q;
      throw new QueryFailed(`unknown query ${JSON.stringify(never)}`);
    }
  }
}
