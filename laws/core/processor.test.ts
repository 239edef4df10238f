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
import { command, scenario, tree } from "./scenarios.ts";

test("resync convergence: any tree, any stale store, any interleaving", () => check(fc.property(scenario, processorLaws.resyncConverges), 300));
test("an unchanged tree resyncs with no item events", () =>
  check(fc.property(tree, fc.constantFrom("compare" as const, "dirty" as const), processorLaws.unchangedTreeSendsNothing)));
test("the processor only takes allowed transitions", () => check(fc.property(fc.array(command, { maxLength: 30 }), processorLaws.onlyAllowedTransitions), 500));

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
