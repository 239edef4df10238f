import fc from "fast-check";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as E from "fp-ts/lib/Either.js";
import type { ItemPath } from "../../core/ItemPath.ts";
import * as Processor from "../../core/Processor.ts";
import { initial } from "../../core/ProcessorState.ts";
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
