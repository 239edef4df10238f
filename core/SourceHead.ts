/**
 * SourceHead — the projection of a source's head: last sequence number and time, the agent's
 * state, named checkpoints, and the resync windows inside which restore points are not
 * point-in-time consistent.
 *
 * @example
 * import * as SourceHead from "./SourceHead.ts";
 * const head = View.fold(SourceHead.view)(events);
 * head.seq; head.checkpoints; SourceHead.isConsistentAt(head, 17)
 *
 * @module
 */
import type * as Event from "./Event.ts";
import type { View } from "./View.ts";

/** A named checkpoint. @category models */
export interface Checkpoint {
  readonly label: string;
  readonly seq: number;
  readonly at: number;
}

/** A resync (or upload) window: from its begin event to its done event (`null` while open). @category models */
export interface Window {
  readonly kind: "upload" | "resync";
  readonly began: number;
  readonly done: number | null;
  readonly reason: string;
}

/** The head of one source. @category models */
export interface SourceHead {
  readonly seq: number;
  readonly at: number;
  readonly state: Event.ProcessorStateName;
  readonly checkpoints: ReadonlyArray<Checkpoint>;
  readonly windows: ReadonlyArray<Window>;
}

/** A source with no events. @category constructors */
export const empty: SourceHead = { seq: 0, at: 0, state: "idle", checkpoints: [], windows: [] };

/** Closes the open windows of these kinds at `seq`. */
const closeWindows = (windows: ReadonlyArray<Window>, kinds: ReadonlyArray<Window["kind"]>, seq: number): ReadonlyArray<Window> =>
  windows.map((w) => (kinds.includes(w.kind) && w.done === null ? { ...w, done: seq } : w));

const evolve = (h: SourceHead, e: Event.Event): SourceHead => {
  if (e.seq <= h.seq) return h;
  const next = { ...h, seq: e.seq, at: e.at };
  switch (e._tag) {
    case "CheckpointMarked":
      return { ...next, checkpoints: [...h.checkpoints, { label: e.label, seq: e.seq, at: e.at }] };
    case "UploadBegan":
      return { ...next, windows: [...h.windows, { kind: "upload", began: e.seq, done: null, reason: "initial upload" }] };
    case "UploadDone":
      return { ...next, windows: closeWindows(h.windows, ["upload"], e.seq) };
    case "ResyncBegan":
      return { ...next, windows: [...closeWindows(h.windows, ["resync"], e.seq), { kind: "resync", began: e.seq, done: null, reason: e.reason }] };
    case "ResyncDone":
      // An upload cut short by a blackout is finished by the resync after it: its window ends here too.
      return { ...next, windows: closeWindows(h.windows, ["upload", "resync"], e.seq) };
    case "AgentStateChanged":
      return { ...next, state: e.to };
    default:
      return next;
  }
};

/** The head as a view. @category projections */
export const view: View<SourceHead, Event.Event> = { initialState: empty, evolve };

/**
 * True when the tree as of `seq` is a point-in-time consistent restore point: not inside an
 * upload or resync window (there the store cannot know the order of the writes it missed).
 *
 * @category queries
 */
export const isConsistentAt = (h: SourceHead, seq: number): boolean =>
  h.windows.every((w) => seq < w.began || (w.done !== null && seq >= w.done));

/** The newest checkpoint with this label. @category queries */
export const checkpoint = (h: SourceHead, label: string): Checkpoint | undefined =>
  [...h.checkpoints].reverse().find((c) => c.label === label);
