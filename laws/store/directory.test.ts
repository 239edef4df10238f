// makeDirectory: missing parents made, an existing directory accepted, anything else refused at once.
import { existsSync } from "node:fs";
import { stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as E from "fp-ts/lib/Either.js";
import { makeDirectory } from "../../store/Directory.ts";
import * as Restore from "../../store/Restore.ts";
import { inTempDir } from "../tempDir.ts";

const inTemp = (body: (dir: string) => Promise<void>): Promise<void> => inTempDir("tidemark-dir-", body);

const codeOf = (p: Promise<unknown>): Promise<string | undefined> => p.then(() => undefined, (e: { code?: string }) => e.code);

test("makes every missing parent, and accepts a directory that is there", () =>
  inTemp(async (dir) => {
    const deep = join(dir, "a", "b", "c");
    await makeDirectory(deep);
    assert.ok((await stat(deep)).isDirectory());
    await makeDirectory(deep);
    await makeDirectory(join(dir, "a"));
  }));

test("refuses a file in the way, at the end or as a parent", () =>
  inTemp(async (dir) => {
    const file = join(dir, "f");
    await writeFile(file, "x");
    assert.is(await codeOf(makeDirectory(file)), "EEXIST");
    assert.is(await makeDirectory(file).then(() => "", (e: Error) => e.message), `${file} exists and is not a directory`);
    assert.is(await codeOf(makeDirectory(join(file, "below"))), "ENOTDIR");
  }));

test("fails at once where the kernel says ENOENT under a directory that exists (procfs)", async () => {
  if (!existsSync("/proc/self")) return;
  const outcome = await Promise.race([
    codeOf(makeDirectory("/proc/tidemark-cannot-be-made/below")),
    new Promise<string>((r) => setTimeout(() => r("hung"), 5_000).unref()),
  ]);
  assert.is(outcome, "ENOENT");
});

test("a restore whose target cannot be a directory is refused as a value, naming the target", () =>
  inTemp(async (dir) => {
    const file = join(dir, "f");
    await writeFile(file, "x");
    const nothing: Restore.TreeSource = { treeAsOf: async function* () {}, chunk: async () => undefined, hash: () => new Uint8Array(32) };
    const out = await Restore.restore(nothing, "s", { seq: 1 }, file);
    assert.ok(E.isLeft(out) && out.left._tag === "TargetUnusable", JSON.stringify(out));
    assert.match(Restore.describeError(out.left), /cannot create the target .*: .* exists and is not a directory$/);
  }));

test.run();
