import fc from "fast-check";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as E from "fp-ts/lib/Either.js";
import type { Digest } from "../../core/Digest.ts";
import type { KnownItem } from "../../core/ItemMeta.ts";
import type { ItemPath } from "../../core/ItemPath.ts";
import * as Processor from "../../core/Processor.ts";
import { initial, type ProcessorEvent, type ProcessorState } from "../../core/ProcessorState.ts";
import * as Step from "../../core/ProcessorStep.ts";
import { check } from "../property.ts";
import * as Model from "./model.ts";
import { processorLaws, runScenario } from "./processorLaws.ts";
import { command, path, scenario, tree } from "./scenarios.ts";

test("resync convergence: any tree, any stale store, any interleaving", () => check(fc.property(scenario, processorLaws.resyncConverges), 300));
test("an unchanged tree resyncs with no item events", () =>
  check(fc.property(tree, fc.constantFrom("compare" as const, "dirty" as const), processorLaws.unchangedTreeSendsNothing)));
test("the processor only takes allowed transitions", () => check(fc.property(fc.array(command, { maxLength: 30 }), processorLaws.onlyAllowedTransitions), 500));

test("a live move of unchanged content is one rename", () =>
  check(fc.property(tree, path, processorLaws.liveMoveIsOneRename)));

const directory = (path: string) => ({ path: path as ItemPath, meta: { type: "dir" as const, size: 0, mode: 0o755, mtimeMs: 0, digest: null, linkTarget: null }, manifest: [], chunks: new Map() });

test("a live directory move is one rename of the directory, never into its own subtree", () => {
  const backup = { ...initial, _tag: "backup" as const, source: Model.source, nextSeq: 5 };
  const movedFrom = { path: "a" as ItemPath, known: { meta: directory("a").meta, manifest: [] } };
  const capture = (path: string) => Processor.decide({ _tag: "CaptureChange", at: 1, path: path as ItemPath, local: directory(path), known: undefined, movedFrom }, backup);
  const moved = capture("b");
  assert.ok(E.isRight(moved));
  assert.equal(moved.right.map((e) => e._tag), ["ItemRenamed"]);
  assert.equal(moved.right.map((e) => (e._tag === "ItemRenamed" ? [e.from, e.path] : [])), [["a", "b"]]);
  const inside = capture("a/b");
  assert.ok(E.isRight(inside));
  assert.equal(inside.right.map((e) => e._tag), ["ItemCreated"]);
});

/** A resync begun from backup over a host listing, with the whole store's metadata received. */
const resyncOver = (host: ReadonlyArray<string>, store: ReadonlyArray<readonly [string, KnownItem]>): ProcessorState => {
  let state: ProcessorState = { ...initial, _tag: "backup", source: Model.source, nextSeq: 5 };
  const commands: ReadonlyArray<Processor.Command> = [
    { _tag: "BeginResync", at: 1, reason: "store-returned", trust: "compare", paths: host as ReadonlyArray<ItemPath>, hostIntact: true },
    { _tag: "ReceiveStoreMetadata", at: 1, range: { gte: "", lt: null }, entries: store as ReadonlyArray<readonly [ItemPath, KnownItem]> },
  ];
  for (const c of commands) {
    const out = Processor.run(c, state);
    assert.ok(E.isRight(out), JSON.stringify(out));
    state = out.right.state;
  }
  return state;
};
const dirKnown: KnownItem = { meta: directory("d").meta, manifest: [] };
const fileKnown: KnownItem = { meta: { type: "file", size: 1, mode: 0o644, mtimeMs: 1, digest: "d1" as Digest, linkTarget: null }, manifest: [] };
const renames = (events: ReadonlyArray<ProcessorEvent>) => events.flatMap((e) => (e._tag === "ItemRenamed" ? [[e.from, e.path]] : []));
const itemEvents = (events: ReadonlyArray<ProcessorEvent>) => events.filter((e) => "seq" in e).map((e) => e._tag);

test("a directory moved while nobody watched, its new name first in key order: one rename, its items asked again, the old ones gone", () => {
  const start = resyncOver(["b", "b/f"], [["a", dirKnown], ["z", dirKnown], ["z/f", fileKnown]]);
  const gone = Processor.run({ _tag: "ProcessItem", at: 2, path: "a" as ItemPath, local: undefined }, start);
  assert.ok(E.isRight(gone));
  const state = gone.right.state;
  const out = Processor.run({ _tag: "ProcessItem", at: 2, path: "b" as ItemPath, local: directory("b"), movedFrom: { path: "z" as ItemPath, known: dirKnown } }, state);
  assert.ok(E.isRight(out));
  assert.equal(renames(out.right.events), [["z", "b"]]);
  assert.equal(Step.next(out.right.state), { _tag: "NeedItems", paths: ["b/f"] });
  assert.is(Step.flagAt(out.right.state, "z/f")?.remote, null, "the store holds nothing at the old path now");
  // A source behind the cursor was compared already (here: deleted): no move.
  const behind = Processor.run({ _tag: "ProcessItem", at: 2, path: "b" as ItemPath, local: directory("b"), movedFrom: { path: "a" as ItemPath, known: dirKnown } }, state);
  assert.ok(E.isRight(behind));
  assert.equal(itemEvents(behind.right.events), ["ItemCreated"]);
});

test("a directory moved while nobody watched, its old name first in key order: one rename to where it went (then a new directory in its place, if one was made), and nothing more for it there", () => {
  const state = resyncOver(["z", "z/f"], [["a", dirKnown], ["a/f", fileKnown]]);
  const movedTo = { path: "z" as ItemPath, local: directory("z"), known: undefined };
  const out = Processor.run({ _tag: "ProcessItem", at: 2, path: "a" as ItemPath, local: undefined, movedTo }, state);
  assert.ok(E.isRight(out));
  assert.equal(renames(out.right.events), [["a", "z"]]);
  const next = Step.next(out.right.state);
  assert.equal(next, { _tag: "ProcessItem", path: "a/f", remote: null });
  // The new path, reached, holds what the move put there: no event for it.
  let state2 = Processor.run({ _tag: "ProcessItem", at: 3, path: "a/f" as ItemPath, local: undefined }, out.right.state);
  assert.ok(E.isRight(state2) && itemEvents(state2.right.events).length === 0);
  const atZ = Step.next(state2.right.state);
  assert.equal(atZ, { _tag: "ProcessItem", path: "z", remote: { meta: directory("z").meta, manifest: [] } });
  state2 = Processor.run({ _tag: "ProcessItem", at: 4, path: "z" as ItemPath, local: directory("z") }, state2.right.state);
  assert.ok(E.isRight(state2));
  assert.equal(itemEvents(state2.right.events), []);
  assert.equal(Step.next(state2.right.state), { _tag: "NeedItems", paths: ["z/f"] });
  // A new directory made in its place: the move, then the new directory.
  const replaced = Processor.run({ _tag: "ProcessItem", at: 2, path: "a" as ItemPath, local: directory("a"), movedTo }, state);
  assert.ok(E.isRight(replaced));
  assert.equal(itemEvents(replaced.right.events), ["ItemRenamed", "ItemCreated"]);
  assert.equal(renames(replaced.right.events), [["a", "z"]]);
  // Not when the store holds something where it went, nor when that is behind the cursor.
  for (const to of [{ ...movedTo, known: dirKnown }, { ...movedTo, path: "0" as ItemPath, local: directory("0") }]) {
    const refused = Processor.run({ _tag: "ProcessItem", at: 2, path: "a" as ItemPath, local: undefined, movedTo: to }, state);
    assert.ok(E.isRight(refused));
    assert.equal(itemEvents(refused.right.events), ["ItemDeleted"]);
  }
});

test("during a resync a live move whose source is ahead of the cursor is no move", () => {
  const run: Model.Run = { state: initial, host: new Map(), store: Model.storeOf(new Map([["z" as ItemPath, { text: "moved", mtimeMs: 1 }]])), events: [] };
  run.host.set("a" as ItemPath, { text: "1", mtimeMs: 1 });
  run.host.set("m" as ItemPath, { text: "2", mtimeMs: 1 });
  run.host.set("z" as ItemPath, { text: "moved", mtimeMs: 1 });
  Model.decide(run, { _tag: "Protect", at: 1, source: Model.source, nextSeq: 2, paths: ["a", "m", "z"] as Array<ItemPath> });
  for (let i = 0; i < 10 && run.state.sync.cursor !== "m"; i++) Model.step(run, 0, 2 + i);
  assert.is(run.state.sync.cursor, "m"); // "b" is behind the cursor, "z" ahead
  const before = run.store.log.length;
  Model.applyLive(run, { path: "b" as ItemPath, text: null, movedFrom: "z" as ItemPath }, 4);
  assert.equal(run.store.log.slice(before).map((e) => e._tag), ["ItemCreated"]);
  for (let i = 0; i < 20 && Model.step(run, i, 10 + i); i++);
  assert.is(run.state._tag, "backup");
  assert.equal(Model.storeMetas(run.store), Model.hostMetas(run.host));
});

test("a live change ahead of the cursor is absorbed, behind it forwarded", () => {
  const run = runScenario({ host: [["a" as ItemPath, "1"], ["m" as ItemPath, "2"], ["z" as ItemPath, "3"]], store: [], mode: "upload", ops: [] });
  assert.is(run.state._tag, "backup");
  const mid: Model.Run = { state: initial, host: new Map(), store: Model.storeOf(new Map()), events: [] };
  mid.host.set("a" as ItemPath, { text: "1", mtimeMs: 1 });
  mid.host.set("m" as ItemPath, { text: "2", mtimeMs: 1 });
  Model.decide(mid, { _tag: "Protect", at: 1, source: Model.source, nextSeq: 1, paths: ["a", "m"] as Array<ItemPath> });
  Model.step(mid, 0, 2); // whole range metadata (empty store)
  Model.step(mid, 0, 3); // process "a"
  assert.is(mid.state.sync.cursor, "a");
  const before = mid.store.log.length;
  Model.applyLive(mid, { path: "z" as ItemPath, text: "late" }, 4); // ahead: absorbed
  assert.is(mid.store.log.length, before);
  Model.applyLive(mid, { path: "a" as ItemPath, text: "changed" }, 5); // behind: forwarded
  assert.is(mid.store.log.length, before + 1);
  assert.is(mid.store.log[before]!._tag, "ItemWritten");
  for (let i = 0; i < 20 && Model.step(mid, i, 10 + i); i++);
  assert.is(mid.state._tag, "backup");
  assert.equal(Model.storeMetas(mid.store), Model.hostMetas(mid.host));
});

test("commands out of place are refused with a typed error", () => {
  const out = Processor.decide({ _tag: "FinishRecovery", at: 1 }, initial);
  assert.ok(E.isLeft(out) && out.left._tag === "NotAllowedInState");
  assert.match(E.isLeft(out) ? Processor.describeError(out.left) : "", /not allowed in state idle/);
});

test("a corrupt host sends a resync to recovery instead", () => {
  const backup = { ...initial, _tag: "backup" as const, source: Model.source, nextSeq: 5 };
  const out = Processor.run({ _tag: "BeginResync", at: 1, reason: "agent-restarted", trust: "compare", paths: [], hostIntact: false }, backup);
  assert.ok(E.isRight(out));
  assert.is(out.right.state._tag, "recovery-initiation");
});

test.run();
