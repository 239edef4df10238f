/**
 * The processor's laws as named predicates: it only takes allowed transitions, and a resync
 * converges: for any host tree, any stale or empty store and any interleaving of live changes, when
 * the stream drains the store's catalogue equals the host's tree and no change was applied on a
 * stale base (the model store applies every event strictly and throws on a stale base or a gap).
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import type * as Event from "../../core/Event.ts";
import type { ItemPath } from "../../core/ItemPath.ts";
import * as Processor from "../../core/Processor.ts";
import { initial, isAllowed, type ProcessorState } from "../../core/ProcessorState.ts";
import * as Model from "./model.ts";

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** A resync scenario. */
export interface Scenario {
  readonly host: ReadonlyArray<readonly [ItemPath, string]>;
  readonly store: ReadonlyArray<readonly [ItemPath, string]>;
  readonly mode: "upload" | "compare" | "dirty";
  readonly ops: ReadonlyArray<{ readonly _tag: "Live"; readonly change: Model.LiveChange } | { readonly _tag: "Step"; readonly choice: number }>;
}

const treeOf = (files: ReadonlyArray<readonly [ItemPath, string]>, mtimeMs: number): Model.HostTree =>
  new Map(files.map(([p, text]) => [p, { text, mtimeMs }]));

const dirtyPaths = (host: Model.HostTree, store: Model.HostTree): Array<ItemPath> =>
  [...new Set([...host.keys(), ...store.keys()])].filter((p) => {
    const a = host.get(p);
    const b = store.get(p);
    return a === undefined || b === undefined || a.text !== b.text || a.mtimeMs !== b.mtimeMs;
  });

/** Runs a scenario to the end: its ops, then the step loop until the processor rests in backup. */
export const runScenario = (s: Scenario): Model.Run => {
  const host = treeOf(s.host, 1);
  const stale = treeOf(s.store, 1);
  const store = Model.storeOf(stale);
  const nextSeq = store.catalogue.head + 1;
  const run: Model.Run = { state: initial, host, store, events: [] };
  let at = 10;
  if (s.mode === "upload") {
    Model.decide(run, { _tag: "Protect", at, source: Model.source, nextSeq, paths: [...host.keys()] });
  } else {
    run.state = { ...initial, _tag: "backup", source: Model.source, nextSeq };
    const paths = s.mode === "dirty" ? dirtyPaths(host, stale) : [...host.keys()];
    Model.decide(run, { _tag: "BeginResync", at, reason: "agent-restarted", trust: s.mode, paths, hostIntact: true });
  }
  for (const op of s.ops) {
    at++;
    if (op._tag === "Live") Model.applyLive(run, op.change, at);
    else Model.step(run, op.choice, at);
  }
  for (let i = 0; i < 10_000 && Model.step(run, i, ++at); i++);
  return run;
};

export const processorLaws = {
  /** After the stream drains, the processor is in backup and the store's catalogue equals the host's tree. */
  resyncConverges: (s: Scenario): boolean => {
    const run = runScenario(s);
    if (run.state._tag !== "backup") throw new Error(`processor ended in ${run.state._tag}, not backup`);
    return sameJson(Model.storeMetas(run.store), Model.hostMetas(run.host));
  },
  /** A resync of an unchanged tree sends no item events. */
  unchangedTreeSendsNothing: (files: ReadonlyArray<readonly [ItemPath, string]>, mode: "compare" | "dirty"): boolean => {
    const run = runScenario({ host: files, store: files, mode, ops: [] });
    return Processor.streamed(run.events).every((e) => !("path" in e)) && mode !== undefined;
  },
  /**
   * A live move of a file the store holds, with its content unchanged, is one `ItemRenamed` (no
   * content sent, and the item's history follows it); the store then equals the host.
   */
  liveMoveIsOneRename: (files: ReadonlyArray<readonly [ItemPath, string]>, to: ItemPath): boolean => {
    const [from] = files[0] ?? [];
    if (from === undefined || from === to) return true;
    const run = runScenario({ host: files, store: files, mode: "dirty", ops: [] });
    const before = run.store.log.length;
    Model.applyLive(run, { path: to, text: null, movedFrom: from }, 1_000);
    const sent = run.store.log.slice(before);
    return sent.length === 1 && sent[0]!._tag === "ItemRenamed" && sameJson(Model.storeMetas(run.store), Model.hostMetas(run.host));
  },
  /** Every state change the processor makes is an allowed transition from the state it is in. */
  onlyAllowedTransitions: (commands: ReadonlyArray<Processor.Command>): boolean => {
    let state: ProcessorState = initial;
    for (const c of commands) {
      const out = Processor.run(c, state);
      if (E.isLeft(out)) continue;
      let current = state._tag;
      for (const e of Processor.streamed(out.right.events) as ReadonlyArray<Event.Event>) {
        if (e._tag !== "AgentStateChanged") continue;
        if (e.from !== current || !isAllowed(e.from, e.to)) return false;
        current = e.to;
      }
      if (current !== out.right.state._tag) return false;
      state = out.right.state;
    }
    return true;
  },
};
