/**
 * Generators for the processor and projection laws: small host trees, stale stores, live changes,
 * shell step choices, valid event logs and random processor commands.
 *
 * @module
 */
import fc from "fast-check";
import type { SourceId } from "../../core/Codecs.ts";
import * as Difference from "../../core/Difference.ts";
import * as Event from "../../core/Event.ts";
import type { ItemPath } from "../../core/ItemPath.ts";
import type * as Processor from "../../core/Processor.ts";
import { itemPath } from "../arbitraries.ts";
import * as Model from "./model.ts";
import type { Scenario } from "./processorLaws.ts";

const paths = ["a", "a b", "b", "c", "d/e", "d/f", "g/h/i", "z", "é", "中/x"] as ReadonlyArray<string> as ReadonlyArray<ItemPath>;
export const path: fc.Arbitrary<ItemPath> = fc.constantFrom(...paths);
const texts = ["", "same content shared by two files ".repeat(8)];
export const text: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...texts),
  fc.string({ unit: fc.constantFrom(..."abcdefgh \n"), maxLength: 600 }),
);
export const tree: fc.Arbitrary<ReadonlyArray<readonly [ItemPath, string]>> = fc.uniqueArray(fc.tuple(path, text), {
  selector: ([p]) => p,
  maxLength: paths.length,
});

const liveChange: fc.Arbitrary<Model.LiveChange> = fc.oneof(
  { arbitrary: fc.record({ path, text: fc.option(text, { nil: null, freq: 4 }) }), weight: 3 },
  { arbitrary: fc.record({ path, text: fc.constant(null), movedFrom: path }), weight: 1 },
);
const op = fc.oneof(
  { arbitrary: liveChange.map((change) => ({ _tag: "Live" as const, change })), weight: 1 },
  { arbitrary: fc.nat(1000).map((choice) => ({ _tag: "Step" as const, choice })), weight: 3 },
);

/** Any host tree, any stale store (empty, unrelated or a near copy), any interleaving of live changes and steps. */
export const scenario: fc.Arbitrary<Scenario> = fc
  .tuple(tree, fc.oneof(tree, fc.constant([]), fc.constant(null)), fc.constantFrom("upload" as const, "compare" as const, "dirty" as const), fc.array(op, { maxLength: 40 }))
  .map(([host, store, mode, ops]) => ({ host, store: store ?? host.slice(0, Math.ceil(host.length / 2)), mode, ops }));

/** Valid logs: the events that take an empty store through a series of trees, numbered from 1. */
export const validLog: fc.Arbitrary<ReadonlyArray<Event.Event>> = fc.array(tree, { minLength: 1, maxLength: 5 }).map((trees) => {
  const events: Array<Event.Event> = [];
  let current = new Map<ItemPath, string>();
  let checkpoint = 0;
  for (const next of trees.map((t) => new Map(t))) {
    for (const p of new Set([...current.keys(), ...next.keys()])) {
      const before = current.get(p);
      const after = next.get(p);
      const local = after === undefined ? undefined : Model.localItem(p, { text: after, mtimeMs: 1 });
      const remote = before === undefined ? undefined : Model.localItem(p, { text: before, mtimeMs: 1 });
      for (const body of Difference.events(p, local, remote, "live")) {
        events.push(Event.stamp({ source: Model.source, seq: events.length + 1, at: events.length }, body));
      }
    }
    events.push(Event.stamp({ source: Model.source, seq: events.length + 1, at: events.length }, { _tag: "CheckpointMarked", label: `c${checkpoint++}` }));
    current = next;
  }
  return events;
});

const at = fc.nat(1000);
/** Random processor commands, most of them out of place, to test the transition guard. */
export const command: fc.Arbitrary<Processor.Command> = fc.oneof(
  fc.record({ _tag: fc.constant("Protect" as const), at, source: fc.constant("src" as SourceId), nextSeq: fc.integer({ min: 1, max: 9 }), paths: fc.array(itemPath, { maxLength: 3 }) }),
  fc.record({ _tag: fc.constant("BeginResync" as const), at, reason: fc.constant("user-requested" as const), trust: fc.constantFrom("dirty" as const, "compare" as const), paths: fc.array(itemPath, { maxLength: 3 }), hostIntact: fc.boolean() }),
  fc.record({ _tag: fc.constant("MatchRange" as const), at, range: fc.constant({ gte: "", lt: null }) }),
  fc.record({ _tag: fc.constant("ReceiveStoreMetadata" as const), at, range: fc.constant({ gte: "", lt: null }), entries: fc.constant([]) }),
  fc.record({ _tag: fc.constant("FinishSync" as const), at }),
  fc.record({ _tag: fc.constant("LoseStore" as const), at, reason: fc.constant("socket closed") }),
  fc.record({ _tag: fc.constant("BeginRecovery" as const), at, reason: fc.constant("user restore") }),
  fc.record({ _tag: fc.constant("StartRecovery" as const), at }),
  fc.record({ _tag: fc.constant("FinishRecovery" as const), at }),
  fc.record({ _tag: fc.constant("MarkCheckpoint" as const), at, label: fc.constant("cp") }),
  fc.record({ _tag: fc.constant("CaptureChange" as const), at, path: itemPath, local: fc.constant(undefined), known: fc.constant(undefined) }),
);
