/**
 * Example: protect a small directory tree into a LevelDB store with the pure event processor, change
 * a file, then restore the tree as it was before the change and as it is now.
 *
 * Node:  node --import tsx examples/upload-and-restore.ts
 * Deno:  node_modules/.bin/deno run --allow-read --allow-write --allow-env --allow-ffi --allow-sys examples/upload-and-restore.ts
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256 } from "../adapters/Sha256.ts";
import { Chunking, Manifest, Processor, ProcessorStep, type Event } from "../core/index.ts";
import type { ItemPath } from "../core/ItemPath.ts";
import type { SourceId } from "../core/Codecs.ts";
import type { LocalItem } from "../core/ItemMeta.ts";
import { Restore, Store } from "../store/index.ts";

const utf8 = new TextEncoder();
const source = "example" as SourceId;
const tree = new Map<string, string>([
  ["notes/today.txt", "buy milk\n"],
  ["notes/ideas.md", "# ideas\n- continuous data protection\n"],
  ["report.csv", "month,value\n".concat(Array.from({ length: 2000 }, (_, i) => `${i},${i * i}\n`).join(""))],
]);

const localItem = (path: string, text: string, mtimeMs: number): LocalItem => {
  const { manifest, chunks } = Manifest.build(utf8.encode(text), Chunking.defaultParams, sha256);
  const digest = Manifest.contentDigest(manifest, sha256);
  return { path: path as ItemPath, meta: { type: "file", size: Manifest.size(manifest), mode: 0o644, mtimeMs, digest, linkTarget: null }, manifest, chunks };
};

const work = await mkdtemp(join(tmpdir(), "tidemark-example-"));
const store = await Store.openClassic(join(work, "store"), { hash: sha256 });
let state = Processor.initial;
let clock = Date.parse("2026-01-01T00:00:00Z");

/** Decides a command, sends its stream events to the store, and keeps the new state. */
const run = async (command: Processor.Command): Promise<void> => {
  const out = Processor.run(command, state);
  if (E.isLeft(out)) throw new Error(Processor.describeError(out.left));
  state = out.right.state;
  const events: ReadonlyArray<Event.Event> = Processor.streamed(out.right.events);
  if (events.length === 0) return;
  const appended = await store.append(source, events);
  if (E.isLeft(appended)) throw new Error(JSON.stringify(appended.left));
  for (const e of events) console.log(`  seq ${e.seq} ${e._tag}${"path" in e ? " " + e.path : ""}`);
};

console.log("upload:");
await run({ _tag: "Protect", at: clock, source, nextSeq: 1, paths: [...tree.keys()] as Array<ItemPath> });
for (let step = ProcessorStep.next(state); step._tag !== "Nothing"; step = ProcessorStep.next(state)) {
  clock += 1000;
  if (step._tag === "NeedRange") {
    const range = { gte: step.from, lt: null };
    await run({ _tag: "ReceiveStoreMetadata", at: clock, range, entries: (await store.metadata(source, range)).entries });
  } else if (step._tag === "ProcessItem") {
    const text = tree.get(step.path);
    await run({ _tag: "ProcessItem", at: clock, path: step.path, local: text === undefined ? undefined : localItem(step.path, text, clock) });
  } else if (step._tag === "Finish") {
    await run({ _tag: "FinishSync", at: clock });
  } else {
    throw new Error(`unexpected step ${step._tag}`);
  }
}
await run({ _tag: "MarkCheckpoint", at: (clock += 1000), label: "before-edit" });

console.log("a live edit:");
const before = (await store.head(source))!.seq;
const known = (await store.metadata(source, { gte: "notes/today.txt", lt: "notes/today.txt\u0000" })).entries[0]?.[1];
tree.set("notes/today.txt", "buy milk\nwater the plants\n");
await run({ _tag: "CaptureChange", at: (clock += 1000), path: "notes/today.txt" as ItemPath, local: localItem("notes/today.txt", tree.get("notes/today.txt")!, clock), known });

for (const [label, seq] of [["before the edit", before], ["now", (await store.head(source))!.seq]] as const) {
  const target = join(work, `restore-${seq}`);
  const report = await Restore.restore(store, source, { seq }, target);
  if (E.isLeft(report)) throw new Error(Restore.describeError(report.left));
  console.log(`restored ${label} (seq ${seq}): ${report.right.files} files; today.txt = ${JSON.stringify(await readFile(join(target, "notes/today.txt"), "utf8"))}`);
}
console.log("versions of notes/today.txt:", (await store.history(source, "notes/today.txt" as ItemPath)).map((v) => `seq ${v.seq} ${v.kind}`).join(", "));
await store.close();
await rm(work, { recursive: true, force: true });
