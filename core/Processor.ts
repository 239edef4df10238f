/**
 * Processor — the agent's event processor as a decider: `decide(command, state)` returns the events
 * a command causes or a typed error; `evolve(state, event)` folds them. Time arrives in each command
 * (`at`); the processor numbers stream events itself.
 *
 * Upload and resync share one mechanism (DESIGN §3): the flagged items of a sorted data list are
 * processed in key order behind a cursor. A live change behind the cursor is forwarded as a normal
 * event; one ahead of it is absorbed (the item stays flagged and is read when the cursor reaches
 * it). Commands are decided one at a time, so a change to the item being processed is decided after
 * that item's resync events. The flags also track what the store holds for each flagged item,
 * updated by every event sent, so no event is computed against a stale base.
 *
 * @example
 * import * as Processor from "./Processor.ts";
 * const events = Processor.decide({ _tag: "Protect", at, source, nextSeq: 1, paths }, Processor.initial);
 * // Right([AgentStateChanged idle→upload, UploadBegan, ItemsFlagged])
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { absurd } from "./Absurd.ts";
import * as Difference from "./Difference.ts";
import * as Event from "./Event.ts";
import type { KeyRange } from "./Fingerprint.ts";
import type { KnownItem, LocalItem } from "./ItemMeta.ts";
import * as ItemMeta from "./ItemMeta.ts";
import { compare, isInside, type ItemPath } from "./ItemPath.ts";
import { initial, isAllowed, type ProcessorEvent, type ProcessorState } from "./ProcessorState.ts";
import * as Step from "./ProcessorStep.ts";
import { evolve } from "./ProcessorEvolve.ts";

export { evolve, initial };

/** What the shell asks of the processor. Every command carries the host time `at`. @category models */
export type Command =
  | { readonly _tag: "Protect"; readonly at: number; readonly source: Event.Identity["source"]; readonly nextSeq: number; readonly paths: ReadonlyArray<ItemPath> }
  | { readonly _tag: "BeginResync"; readonly at: number; readonly reason: Event.ResyncReason; readonly trust: Event.ResyncTrust; readonly paths: ReadonlyArray<ItemPath>; readonly hostIntact: boolean }
  | { readonly _tag: "ReceiveStoreMetadata"; readonly at: number; readonly range: KeyRange; readonly entries: ReadonlyArray<readonly [ItemPath, KnownItem]> }
  | { readonly _tag: "MatchRange"; readonly at: number; readonly range: KeyRange }
  | { readonly _tag: "ReceiveItemMetadata"; readonly at: number; readonly items: ReadonlyArray<readonly [ItemPath, KnownItem | null]> }
  | {
    readonly _tag: "ProcessItem";
    readonly at: number;
    readonly path: ItemPath;
    readonly local: LocalItem | undefined;
    readonly movedFrom?: MovedFrom | undefined;
    readonly movedTo?: MovedTo | undefined;
  }
  | {
    readonly _tag: "CaptureChange";
    readonly at: number;
    readonly path: ItemPath;
    readonly local: LocalItem | undefined;
    readonly known: KnownItem | undefined;
    readonly ranges?: ReadonlyArray<Event.ByteRange> | undefined;
    readonly movedFrom?: MovedFrom | undefined;
  }
  | { readonly _tag: "MarkCheckpoint"; readonly at: number; readonly label: string }
  | { readonly _tag: "FinishSync"; readonly at: number }
  | { readonly _tag: "LoseStore"; readonly at: number; readonly reason: string }
  | { readonly _tag: "BeginRecovery"; readonly at: number; readonly reason: string }
  | { readonly _tag: "StartRecovery"; readonly at: number }
  | { readonly _tag: "FinishRecovery"; readonly at: number };

/**
 * Where the shell believes a live item came from: a path the host no longer has (the same file, by
 * inode), and what the store holds there. Used only when the store holds the same content there.
 *
 * @category models
 */
export interface MovedFrom {
  readonly path: ItemPath;
  readonly known: KnownItem;
}

/**
 * Where the shell believes an item the store holds, gone from the host (or another directory made in
 * its place), went while nobody watched: a directory (found through its files, by inode) at a path
 * ahead of the cursor, as the host has it (`local`), and what the store holds there. Used only for a
 * directory, when the store holds none there.
 *
 * @category models
 */
export interface MovedTo {
  readonly path: ItemPath;
  readonly local: LocalItem;
  readonly known: KnownItem | undefined;
}

/** Why a command was refused. @category errors */
export type ProcessorError =
  | { readonly _tag: "NotAllowedInState"; readonly command: Command["_tag"]; readonly state: Event.ProcessorStateName }
  | { readonly _tag: "OutOfStep"; readonly command: Command["_tag"]; readonly expected: Step.Step["_tag"]; readonly detail: string };

/** The readable reason for a refused command. @category errors */
export const describeError = (e: ProcessorError): string =>
  e._tag === "NotAllowedInState"
    ? `${e.command} is not allowed in state ${e.state}`
    : `${e.command} is out of step (the processor needs ${e.expected}): ${e.detail}`;

type Decision = E.Either<ProcessorError, ReadonlyArray<ProcessorEvent>>;

const notAllowed = (c: Command, s: ProcessorState): Decision => E.left({ _tag: "NotAllowedInState", command: c._tag, state: s._tag });
const outOfStep = (c: Command, expected: Step.Step, detail: string): Decision =>
  E.left({ _tag: "OutOfStep", command: c._tag, expected: expected._tag, detail });

/** Numbers event bodies from the state's next sequence number. */
const number = (s: ProcessorState, at: number, bodies: ReadonlyArray<Event.EventBody>, source = s.source): ReadonlyArray<Event.Event> =>
  bodies.map((b, i) => Event.stamp({ source: source!, seq: s.nextSeq + i, at }, b));

const change = (from: Event.ProcessorStateName, to: Event.ProcessorStateName, reason: string): Event.EventBody => ({
  _tag: "AgentStateChanged",
  from,
  to,
  reason,
});

const protect = (c: Extract<Command, { _tag: "Protect" }>, s: ProcessorState): Decision =>
  s._tag !== "idle"
    ? notAllowed(c, s)
    : E.right([
      ...number({ ...s, nextSeq: c.nextSeq }, c.at, [change("idle", "upload", "protect command"), { _tag: "UploadBegan", items: c.paths.length }], c.source),
      { _tag: "ItemsFlagged", paths: c.paths, cause: "suspect" },
    ]);

const beginResync = (c: Extract<Command, { _tag: "BeginResync" }>, s: ProcessorState): Decision => {
  if (s._tag !== "backup" && s._tag !== "blackout") return notAllowed(c, s);
  const flagged: ProcessorEvent = { _tag: "ItemsFlagged", paths: c.paths, cause: "suspect" };
  if (!c.hostIntact) {
    const path = s._tag === "blackout"
      ? [change("blackout", "resync", c.reason), change("resync", "recovery-initiation", "host data is corrupt")]
      : [change("backup", "recovery-initiation", "host data is corrupt")];
    return E.right([...number(s, c.at, path), flagged]);
  }
  const bodies: ReadonlyArray<Event.EventBody> = [
    change(s._tag, "resync", c.reason),
    { _tag: "ResyncBegan", reason: c.reason, trust: c.trust, items: c.paths.length },
  ];
  return E.right([...number(s, c.at, bodies), flagged]);
};

const receiveRange = (c: Extract<Command, { _tag: "ReceiveStoreMetadata" | "MatchRange" }>, s: ProcessorState): Decision => {
  const step = Step.next(s);
  if (step._tag !== "NeedRange") return outOfStep(c, step, "no range metadata is needed now");
  if (c.range.gte !== step.from) return outOfStep(c, step, `range starts at ${JSON.stringify(c.range.gte)}, expected ${JSON.stringify(step.from)}`);
  if (c._tag === "MatchRange") return E.right([{ _tag: "RangeMatched", range: c.range }]);
  return E.right([{ _tag: "StoreMetadataReceived", range: c.range, entries: c.entries }]);
};

const processItem = (c: Extract<Command, { _tag: "ProcessItem" }>, s: ProcessorState): Decision => {
  const step = Step.next(s);
  if (step._tag !== "ProcessItem" || step.path !== c.path) return outOfStep(c, step, `cannot process ${JSON.stringify(c.path)} now`);
  const origin: Event.Origin = s._tag === "upload" ? "upload" : "resync";
  const moved = movedHere(s, c, step.remote, origin) ?? movedAway(s, c, step.remote, origin);
  const bodies = moved ?? Difference.events(c.path, c.local, step.remote ?? undefined, origin);
  return E.right([...number(s, c.at, bodies), { _tag: "ItemProcessed", path: c.path }]);
};

/**
 * The item being processed as moved here from `movedFrom`, when that is safe: the source is still
 * ahead of the cursor (not yet compared), and the store holds there this content (as the flags know
 * it, else as the shell asked).
 */
const movedHere = (s: ProcessorState, c: Extract<Command, { _tag: "ProcessItem" }>, target: KnownItem | null, origin: Event.Origin): ReadonlyArray<Event.EventBody> | undefined => {
  const from = c.movedFrom;
  if (from === undefined || Step.isBehindCursor(s, from.path)) return undefined;
  const flagged = Step.flagAt(s, from.path)?.remote;
  const source = flagged === undefined ? from.known : flagged;
  return source === null ? undefined : renamed(from.path, source, c.path, c.local, target ?? undefined, origin, ["file", "dir"]);
};

/**
 * The directory being processed, gone from the host or another one in its place, as moved to
 * `movedTo`, when that is safe: the target is ahead of it (not yet compared), and the store holds no
 * item there. A directory in its place is made anew after the move.
 */
const movedAway = (s: ProcessorState, c: Extract<Command, { _tag: "ProcessItem" }>, source: KnownItem | null, origin: Event.Origin): ReadonlyArray<Event.EventBody> | undefined => {
  const to = c.movedTo;
  if (to === undefined || (c.local !== undefined && c.local.meta.type !== "dir") || source === null || to.known !== undefined) return undefined;
  if (Step.isBehindCursor(s, to.path) || compare(to.path, c.path) <= 0) return undefined;
  const moved = renamed(c.path, source, to.path, to.local, undefined, origin, ["dir"]);
  return moved === undefined ? undefined : [...moved, ...Difference.events(c.path, c.local, undefined, origin)];
};

/**
 * The rename of `from` (holding `source` in the store) to `path`, when `local` is of one of `kinds`
 * with that content. A directory's rename moves its subtree in the store; its items are compared
 * after it.
 */
const renamed = (
  from: ItemPath,
  source: KnownItem,
  path: ItemPath,
  local: LocalItem | undefined,
  target: KnownItem | undefined,
  origin: Event.Origin,
  kinds: ReadonlyArray<ItemMeta.ItemMeta["type"]>,
): ReadonlyArray<Event.EventBody> | undefined => {
  if (local === undefined || from === path || !kinds.includes(local.meta.type) || !ItemMeta.sameContent(source.meta, local.meta)) return undefined;
  // A directory moved into its own subtree, or out of it into its parent's place, is no move the store can make.
  if (local.meta.type === "dir" && (isInside(path, from) || isInside(from, path))) return undefined;
  return [{ _tag: "ItemRenamed", from, path, meta: local.meta, base: ItemMeta.baseOf(source.meta), targetBase: ItemMeta.baseOf(target?.meta), origin }];
};

const capture = (c: Extract<Command, { _tag: "CaptureChange" }>, s: ProcessorState): Decision => {
  switch (s._tag) {
    case "idle":
      return notAllowed(c, s);
    case "backup":
      return E.right(number(s, c.at, live(c, s)));
    case "upload":
    case "resync":
      return Step.isBehindCursor(s, c.path) ? E.right(number(s, c.at, live(c, s))) : E.right([{ _tag: "LiveChangeAbsorbed", path: c.path }]);
    case "blackout":
    case "recovery-initiation":
    case "recovery":
      return E.right([{ _tag: "LiveChangeAbsorbed", path: c.path }]);
    default:
      return absurd(s._tag);
  }
};

/**
 * A live change's events: a rename when the shell's hint holds (during an upload or resync, only
 * when its source too is behind the cursor: one ahead is still to be compared), else the difference.
 */
const live = (c: Extract<Command, { _tag: "CaptureChange" }>, s: ProcessorState): ReadonlyArray<Event.EventBody> => {
  const from = c.movedFrom;
  const movable = from !== undefined && (s._tag === "backup" || Step.isBehindCursor(s, from.path));
  const moved = movable ? renamed(from.path, from.known, c.path, c.local, c.known, "live", ["file", "dir"]) : undefined;
  return moved ?? Difference.events(c.path, c.local, c.known, "live").map((b) =>
    b._tag === "ItemWritten" && c.ranges !== undefined ? { ...b, ranges: c.ranges } : b
  );
};

const transition = (c: Command, s: ProcessorState, to: Event.ProcessorStateName, reason: string, extra: ReadonlyArray<Event.EventBody> = []): Decision =>
  isAllowed(s._tag, to) ? E.right(number(s, c.at, [...extra, change(s._tag, to, reason)])) : notAllowed(c, s);

const finishSync = (c: Extract<Command, { _tag: "FinishSync" }>, s: ProcessorState): Decision => {
  const step = Step.next(s);
  if (step._tag !== "Finish") return outOfStep(c, step, "the data list is not exhausted");
  return transition(c, s, "backup", s._tag === "upload" ? "upload done" : "resync done", [{ _tag: s._tag === "upload" ? "UploadDone" : "ResyncDone" }]);
};

/**
 * Decides what a command does in a state.
 *
 * @category decider
 */
export const decide = (c: Command, s: ProcessorState): Decision => {
  switch (c._tag) {
    case "Protect":
      return protect(c, s);
    case "BeginResync":
      return beginResync(c, s);
    case "ReceiveStoreMetadata":
    case "MatchRange":
      return receiveRange(c, s);
    case "ReceiveItemMetadata": {
      const step = Step.next(s);
      return step._tag === "NeedItems" ? E.right([{ _tag: "ItemMetadataReceived", items: c.items }]) : outOfStep(c, step, "no item metadata is needed now");
    }
    case "ProcessItem":
      return processItem(c, s);
    case "CaptureChange":
      return capture(c, s);
    case "MarkCheckpoint":
      return s._tag === "idle" ? notAllowed(c, s) : E.right(number(s, c.at, [{ _tag: "CheckpointMarked", label: c.label }]));
    case "FinishSync":
      return finishSync(c, s);
    case "LoseStore":
      return s._tag === "blackout" ? E.right([]) : transition(c, s, "blackout", c.reason);
    case "BeginRecovery":
      return transition(c, s, "recovery-initiation", c.reason);
    case "StartRecovery":
      return transition(c, s, "recovery", "recovery started");
    case "FinishRecovery":
      return transition(c, s, "backup", "recovery done");
    default:
      return absurd(c);
  }
};

/** Decides and folds: the new state with the events, or the error. @category decider */
export const run = (c: Command, s: ProcessorState): E.Either<ProcessorError, { readonly state: ProcessorState; readonly events: ReadonlyArray<ProcessorEvent> }> =>
  E.map((events: ReadonlyArray<ProcessorEvent>) => ({ state: events.reduce(evolve, s), events }))(decide(c, s));

/** The stream events among processor events, in order. @category destructors */
export const streamed = (events: ReadonlyArray<ProcessorEvent>): ReadonlyArray<Event.Event> =>
  events.filter((e): e is Event.Event => Object.hasOwn(e, "seq"));
