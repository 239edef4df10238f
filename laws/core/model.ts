/**
 * A small model of a host tree and of the shell around the processor, for the resync laws: it
 * builds local items from file contents, runs the processor's step loop, answers metadata requests
 * from a model store (the catalogue view), and applies every stream event to it strictly.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import * as Catalogue from "../../core/Catalogue.ts";
import type { SourceId } from "../../core/Codecs.ts";
import * as Event from "../../core/Event.ts";
import * as Fingerprint from "../../core/Fingerprint.ts";
import type { ItemMeta, KnownItem, LocalItem } from "../../core/ItemMeta.ts";
import { compare, type ItemPath } from "../../core/ItemPath.ts";
import * as Manifest from "../../core/Manifest.ts";
import * as Processor from "../../core/Processor.ts";
import type { ProcessorEvent, ProcessorState } from "../../core/ProcessorState.ts";
import * as Step from "../../core/ProcessorStep.ts";
import * as SortedMap from "../../core/SortedMap.ts";
import { sha256 } from "../../adapters/Sha256.ts";

export const params = { min: 64, avg: 128, max: 512 };
export const source = "src" as SourceId;
const utf8 = new TextEncoder();

/** A host file: its text and its mtime. */
export interface HostFile {
  readonly text: string;
  readonly mtimeMs: number;
}
export type HostTree = Map<ItemPath, HostFile>;

/** The local item of a host file. */
export const localItem = (path: ItemPath, file: HostFile): LocalItem => {
  const { manifest, chunks } = Manifest.build(utf8.encode(file.text), params, sha256);
  const meta: ItemMeta = {
    type: "file",
    size: Manifest.size(manifest),
    mode: 0o644,
    mtimeMs: file.mtimeMs,
    digest: Manifest.contentDigest(manifest, sha256),
    linkTarget: null,
  };
  return { path, meta, manifest, chunks };
};

/** A model store: the strict catalogue of one source. */
export interface ModelStore {
  catalogue: Catalogue.Catalogue;
  readonly log: Array<Event.Event>;
}

/** A store holding a tree, uploaded as created items from sequence number 1. */
export const storeOf = (tree: HostTree): ModelStore => {
  const store: ModelStore = { catalogue: Catalogue.empty, log: [] };
  let seq = 1;
  for (const [path, file] of [...tree].sort((a, b) => compare(a[0], b[0]))) {
    const local = localItem(path, file);
    const body: Event.EventBody = { _tag: "ItemCreated", path, meta: local.meta, manifest: local.manifest, chunks: [], base: null, origin: "upload" };
    append(store, Event.stamp({ source, seq: seq++, at: 0 }, body));
  }
  return store;
};

/** Appends strictly: the next sequence number, and a base that matches. Throws on violation. */
export const append = (store: ModelStore, e: Event.Event): void => {
  if (e.seq !== store.catalogue.head + 1) throw new Error(`sequence gap: got ${e.seq} after ${store.catalogue.head}`);
  const next = Catalogue.apply(store.catalogue, e);
  if (E.isLeft(next)) throw new Error(`store refused ${e._tag} ${"path" in e ? e.path : ""}: ${Catalogue.describeError(next.left)}`);
  store.catalogue = next.right;
  store.log.push(e);
};

export const known = (store: ModelStore, path: string): KnownItem | undefined => {
  const entry = SortedMap.get(store.catalogue.items, path);
  return entry === undefined ? undefined : Catalogue.knownItem(entry);
};

const inRange = (range: Fingerprint.KeyRange) => (path: string) => Fingerprint.contains(range, path);

/** The whole run: the processor's state, the host, the store, and every event decided. */
export interface Run {
  state: ProcessorState;
  readonly host: HostTree;
  readonly store: ModelStore;
  readonly events: Array<ProcessorEvent>;
}

/** Decides a command, applies its stream events to the store; throws on refusal. */
export const decide = (run: Run, command: Processor.Command): void => {
  const out = Processor.run(command, run.state);
  if (E.isLeft(out)) throw new Error(`processor refused ${command._tag}: ${Processor.describeError(out.left)}`);
  run.state = out.right.state;
  run.events.push(...out.right.events);
  for (const e of Processor.streamed(out.right.events)) append(run.store, e);
};

/** One host-side change: write new text (creating the file), delete it, or move another file to its path (`movedFrom`). */
export interface LiveChange {
  readonly path: ItemPath;
  readonly text: string | null;
  readonly movedFrom?: ItemPath | undefined;
}

export const applyLive = (run: Run, change: LiveChange, at: number): void => {
  if (change.movedFrom !== undefined) return applyMove(run, change.movedFrom, change.path, at);
  if (change.text === null) run.host.delete(change.path);
  else run.host.set(change.path, { text: change.text, mtimeMs: at });
  const file = run.host.get(change.path);
  decide(run, {
    _tag: "CaptureChange",
    at,
    path: change.path,
    local: file === undefined ? undefined : localItem(change.path, file),
    known: known(run.store, change.path),
  });
};

/**
 * Moves a host file as the shell captures a move: the new path first, with where it came from and
 * what the store holds there, then the old path (found gone).
 */
const applyMove = (run: Run, from: ItemPath, path: ItemPath, at: number): void => {
  const file = run.host.get(from);
  if (file === undefined || from === path) return;
  run.host.delete(from);
  run.host.set(path, file);
  const source = known(run.store, from);
  const movedFrom = source === undefined ? undefined : { path: from, known: source };
  decide(run, { _tag: "CaptureChange", at, path, local: localItem(path, file), known: known(run.store, path), movedFrom });
  decide(run, { _tag: "CaptureChange", at, path: from, local: undefined, known: known(run.store, from) });
};

/** A rename hint when one is safe to offer: a flagged store item the host lacks, with the same content. */
const renameHint = (run: Run, path: ItemPath, local: LocalItem | undefined): Processor.MovedFrom | undefined => {
  if (local === undefined) return undefined;
  for (const [candidate, flag] of SortedMap.entries(run.state.sync.flags, { gt: path })) {
    if (flag.remote != null && flag.remote.meta.digest === local.meta.digest && !run.host.has(candidate as ItemPath)) return { path: candidate as ItemPath, known: flag.remote };
  }
  return undefined;
};

/** Takes one step of the shell's loop; `choice` picks range bounds, matching and rename hints. Returns false when idle. */
export const step = (run: Run, choice: number, at: number): boolean => {
  const next = Step.next(run.state);
  switch (next._tag) {
    case "Nothing":
    case "ResyncNeeded":
      return false;
    case "NeedRange": {
      const keys = [...new Set([...run.host.keys(), ...SortedMap.keys(run.store.catalogue.items)])]
        .filter((k) => compare(k, next.from) > 0)
        .sort(compare);
      const lt = choice % 3 === 0 || keys.length === 0 ? null : keys[choice % keys.length]!;
      const range = { gte: next.from, lt };
      const hostItems = [...run.host].filter(([p]) => inRange(range)(p)).sort((a, b) => compare(a[0], b[0]));
      const hostFp = Fingerprint.ofItems(sha256, hostItems.map(([p, f]) => [p, localItem(p, f).meta] as const));
      const storeItems = [...SortedMap.entries(run.store.catalogue.items, { gte: range.gte, lt: range.lt ?? undefined })];
      const storeFp = Fingerprint.ofItems(sha256, storeItems.map(([p, e]) => [p, e.meta] as const));
      if (Fingerprint.equals(hostFp, storeFp) && choice % 2 === 0) decide(run, { _tag: "MatchRange", at, range });
      else decide(run, { _tag: "ReceiveStoreMetadata", at, range, entries: storeItems.map(([p, e]) => [p as ItemPath, Catalogue.knownItem(e)] as const) });
      return true;
    }
    case "NeedItems":
      decide(run, { _tag: "ReceiveItemMetadata", at, items: next.paths.map((p) => [p, known(run.store, p) ?? null] as const) });
      return true;
    case "ProcessItem": {
      const file = run.host.get(next.path);
      const local = file === undefined ? undefined : localItem(next.path, file);
      const movedFrom = choice % 2 === 1 ? renameHint(run, next.path, local) : undefined;
      decide(run, { _tag: "ProcessItem", at, path: next.path, local, movedFrom });
      return true;
    }
    case "Finish":
      decide(run, { _tag: "FinishSync", at });
      return true;
    default:
      return false;
  }
};

/** The host tree as the store should hold it: path → item metadata. */
export const hostMetas = (host: HostTree): Array<readonly [string, ItemMeta]> =>
  [...host].map(([p, f]) => [p, localItem(p, f).meta] as const).sort((a, b) => compare(a[0], b[0]));

export const storeMetas = (store: ModelStore): Array<readonly [string, ItemMeta]> =>
  [...SortedMap.entries(store.catalogue.items)].map(([p, e]) => [p, e.meta] as const);
