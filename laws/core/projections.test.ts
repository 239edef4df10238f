import fc from "fast-check";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as E from "fp-ts/lib/Either.js";
import * as Catalogue from "../../core/Catalogue.ts";
import type { ItemPath } from "../../core/ItemPath.ts";
import * as Event from "../../core/Event.ts";
import { meta } from "../arbitraries.ts";
import { check } from "../property.ts";
import { fingerprintLaws, planLaws, projectionLaws } from "./laws.ts";
import * as Model from "./model.ts";
import { path, validLog } from "./scenarios.ts";
import * as ItemPathM from "../../core/ItemPath.ts";
import * as SourceHead from "../../core/SourceHead.ts";

test("fold splits: fold(a ++ b) = fold(b, fold(a))", () => check(fc.property(validLog, fc.nat(), (log, i) => projectionLaws.foldSplits(log, i % (log.length + 1)))));
test("replaying applied events is idempotent", () => check(fc.property(validLog, fc.nat(), (log, i) => projectionLaws.replayIsIdempotent(log, i % (log.length + 1)))));
test("history as of n equals the fold of the first n events", () => check(fc.property(validLog, fc.nat(), (log, i) => projectionLaws.historyAsOfEqualsPrefixFold(log, i % (log.length + 1)))));

const listing = fc.uniqueArray(fc.tuple(path, meta), { selector: ([p]) => p }).map((xs) => [...xs].sort((a, b) => ItemPathM.compare(a[0], b[0])));
test("fingerprints combine over any split", () => check(fc.property(listing, fc.nat(), (items, i) => fingerprintLaws.combinesOverSplit(items, i % (items.length + 1)))));
test("a range's fingerprint is a difference of prefix fingerprints", () =>
  check(fc.property(listing, fc.nat(), fc.nat(), (items, i, j) => fingerprintLaws.prefixSubtraction(items, i % (items.length + 1), j % (items.length + 1)))));
test("a slice's prints summed in place equal them combined one by one", () =>
  check(fc.property(listing, fc.array(fc.boolean()), fc.nat(), fc.nat(), (items, holes, i, j) => fingerprintLaws.sumIsTheFold(items, holes, i % (items.length + 1), j % (items.length + 1)))));
test("range split covers the range", () => check(fc.property(fc.uniqueArray(path).map((k) => [...k].sort(ItemPathM.compare)), fc.integer({ min: 1, max: 8 }), fingerprintLaws.splitCoversRange)));

const listed = listing.map((xs) => xs.map(([p, m]) => ({ path: p, meta: m })));
test("the resync plan takes the store's listing to the host's", () => check(fc.property(listed, listed, planLaws.planReachesHost)));

test("an upload cut short by a blackout ends with the resync that finishes it", () => {
  // Seen by hand: a store that failed mid-upload, then recovered; the agent finished by a resync,
  // and every restore point after it was reported as not point-in-time consistent, for good.
  const a = Model.localItem("a" as ItemPath, { text: "one", mtimeMs: 1 });
  const id = (seq: number) => ({ source: Model.source, seq, at: seq });
  const log: Array<Event.Event> = [
    Event.stamp(id(1), { _tag: "UploadBegan", items: 1 }),
    Event.stamp(id(2), { _tag: "ItemCreated", path: a.path, meta: a.meta, manifest: a.manifest, chunks: [], base: null, origin: "upload" }),
    Event.stamp(id(3), { _tag: "ResyncBegan", reason: "store-returned", trust: "dirty", items: 1 }),
    Event.stamp(id(4), { _tag: "ResyncDone" }),
    Event.stamp(id(5), { _tag: "CheckpointMarked", label: "after" }),
  ];
  const head = log.reduce(SourceHead.view.evolve, SourceHead.empty);
  assert.equal(head.windows.map((w) => [w.kind, w.began, w.done]), [["upload", 1, 4], ["resync", 3, 4]]);
  assert.equal([1, 2, 3, 4, 5].map((seq) => SourceHead.isConsistentAt(head, seq)), [false, false, false, true, true]);
});

test("a stale base is refused and changes nothing", () => {
  const a = Model.localItem("a" as ItemPath, { text: "one", mtimeMs: 1 });
  const created = Event.stamp({ source: Model.source, seq: 1, at: 1 }, { _tag: "ItemCreated", path: a.path, meta: a.meta, manifest: a.manifest, chunks: [], base: null, origin: "live" });
  const after = Catalogue.apply(Catalogue.empty, created);
  assert.ok(E.isRight(after));
  const again = Catalogue.apply(after.right, { ...created, seq: 2 });
  assert.ok(E.isLeft(again) && again.left._tag === "StaleBase");
});

test("deleting a directory removes its subtree; renaming it moves the subtree", () => {
  const dir = { type: "dir" as const, size: 0, mode: 0o755, mtimeMs: 1, digest: null, linkTarget: null };
  const f = Model.localItem("d/f" as ItemPath, { text: "x", mtimeMs: 1 });
  const id = (seq: number) => ({ source: Model.source, seq, at: seq });
  const log: Array<Event.Event> = [
    Event.stamp(id(1), { _tag: "ItemCreated", path: "d" as ItemPath, meta: dir, manifest: [], chunks: [], base: null, origin: "live" }),
    Event.stamp(id(2), { _tag: "ItemCreated", path: "d/f" as ItemPath, meta: f.meta, manifest: f.manifest, chunks: [], base: null, origin: "live" }),
    Event.stamp(id(3), { _tag: "ItemRenamed", from: "d" as ItemPath, path: "e" as ItemPath, meta: dir, base: { type: "dir", digest: null }, targetBase: null, origin: "live" }),
  ];
  const moved = log.reduce(Catalogue.view.evolve, Catalogue.empty);
  assert.equal([...Catalogue.lookupIn(moved.items).subtree("e" as ItemPath)].map(([p]) => p), ["e/f"]);
  assert.equal(moved.items.root !== undefined && [...Catalogue.lookupIn(moved.items).subtree("d" as ItemPath)].length, 0);
  const deleted = Catalogue.view.evolve(moved, Event.stamp(id(4), { _tag: "ItemDeleted", path: "e" as ItemPath, base: { type: "dir", digest: null }, origin: "live" }));
  assert.is(deleted.items.root, undefined);
});

test.run();
