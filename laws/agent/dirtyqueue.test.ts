// The queue of dirty paths acts as an insertion-ordered map: after any adds, removals and takes
// (enough of them, in the long case, that its front is cut off and its slots renumbered), its
// order, size, first entry and membership are those of a plain list of [path, value] pairs.
import fc from "fast-check";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as DirtyQueue from "../../adapters/agent/DirtyQueue.ts";
import { check } from "../property.ts";

type Op = { readonly _tag: "add"; readonly path: number; readonly value: number } | { readonly _tag: "remove"; readonly path: number } | { readonly _tag: "take" };

const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ _tag: fc.constant("add" as const), path: fc.nat(6), value: fc.nat() }), weight: 3 },
  { arbitrary: fc.record({ _tag: fc.constant("remove" as const), path: fc.nat(6) }), weight: 2 },
  { arbitrary: fc.record({ _tag: fc.constant("take" as const) }), weight: 2 },
);

/** Applies the ops to the queue and to a plain list; false at the first disagreement. */
const actsAsAnOrderedMap = (ops: ReadonlyArray<Op>): boolean => {
  const queue = DirtyQueue.make<number>();
  let model: Array<readonly [string, number]> = [];
  for (const o of ops) {
    if (o._tag === "add") {
      const path = `p${o.path}`;
      queue.add(path, o.value);
      if (!model.some(([p]) => p === path)) model.push([path, o.value]);
    } else if (o._tag === "remove") {
      const path = `p${o.path}`;
      const had = model.some(([p]) => p === path);
      if (queue.remove(path) !== had) return false;
      model = model.filter(([p]) => p !== path);
    } else {
      const taken = queue.take();
      if (taken !== model.shift()?.[0]) return false;
    }
    if (queue.size !== model.length || JSON.stringify(queue.first()) !== JSON.stringify(model[0])) return false;
    if (JSON.stringify([...queue]) !== JSON.stringify(model.map(([p]) => p))) return false;
  }
  return model.every(([p]) => queue.has(p));
};

test("the dirty queue acts as an insertion-ordered map", () => check(fc.property(fc.array(op, { minLength: 10, maxLength: 200, size: "large" }), actsAsAnOrderedMap), 300));

test("the dirty queue keeps its order through many takes (its front cut off)", () => {
  const ops: Array<Op> = [];
  for (let i = 0; i < 5000; i++) ops.push({ _tag: "add", path: i % 40, value: i }, { _tag: "take" }, { _tag: "add", path: (i * 7) % 40, value: i });
  assert.ok(actsAsAnOrderedMap(ops));
});

test("100,000 paths are taken one by one in the order they were queued", () => {
  const queue = DirtyQueue.make();
  for (let i = 0; i < 100_000; i++) queue.add(`p${i}`);
  let n = 0;
  for (let path = queue.take(); path !== undefined; path = queue.take()) if (path === `p${n}`) n++;
  assert.is(n, 100_000);
  assert.is(queue.size, 0);
});

test.run();
