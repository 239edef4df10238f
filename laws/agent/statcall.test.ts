// StatCall on real files: its lstat gives what lstatSync gives (a file, a directory, a link, nothing,
// a failure with its code), through Node's binding when that agrees with lstatSync, and through
// lstatSync when the binding is missing, wrong or failing.
import { lstatSync } from "node:fs";
import { mkdtemp, rm, symlink, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as StatCall from "../../adapters/agent/StatCall.ts";
import type { StatData } from "../../adapters/agent/TreeScan.ts";

const viaSync = (abs: string): StatData | undefined => {
  const st = lstatSync(abs, { throwIfNoEntry: false });
  return st === undefined ? undefined : { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, mode: st.mode, nlink: st.nlink };
};

/** lstatSync, counting its calls. */
const counted = () => {
  let calls = 0;
  const fn = ((...args: Parameters<typeof lstatSync>) => {
    calls++;
    return lstatSync(...args);
  }) as typeof lstatSync;
  return { fn, calls: () => calls };
};

const realBinding = (): StatCall.Calls["binding"] => (process as unknown as { binding: (name: string) => StatCall.Calls["binding"] }).binding("fs");

const withTree = async (body: (root: string) => Promise<void>): Promise<void> => {
  const root = await mkdtemp(join(tmpdir(), "tidemark-statcall-"));
  try {
    await writeFile(join(root, "a.txt"), "some bytes");
    await mkdir(join(root, "d"));
    await symlink("nowhere", join(root, "link"));
    await body(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
};

test("lstat gives lstatSync's numbers for a file, a directory and a link, nothing for a missing path, and lstatSync's failure otherwise", () =>
  withTree(async (root) => {
    for (const name of ["a.txt", "d", "link"]) assert.equal(StatCall.lstat(join(root, name)), viaSync(join(root, name)), name);
    assert.is(StatCall.lstat(join(root, "missing")), undefined);
    assert.throws(() => StatCall.lstat(join(root, "a.txt", "below")), (e: NodeJS.ErrnoException) => e.code === "ENOTDIR");
    assert.equal([StatCall.kindOf(StatCall.lstat(join(root, "a.txt"))!.mode), StatCall.kindOf(StatCall.lstat(join(root, "d"))!.mode), StatCall.kindOf(StatCall.lstat(join(root, "link"))!.mode)], ["file", "dir", "symlink"]);
  }));

test("Node's binding is used when it agrees with lstatSync: no lstatSync call after the first", () =>
  withTree(async (root) => {
    const sync = counted();
    const lstat = StatCall.choose({ lstatSync: sync.fn, binding: realBinding() }, process.execPath);
    const before = sync.calls();
    for (const name of ["a.txt", "d", "link", "missing"]) assert.equal(lstat(join(root, name)), viaSync(join(root, name)), name);
    assert.is(sync.calls(), before, "every call went through the binding");
  }));

test("a binding that is missing, gives other numbers or fails is not used", () =>
  withTree(async (root) => {
    const wrong = { lstat: () => new Float64Array(36).fill(7) };
    const failing = {
      lstat: () => {
        throw new Error("not here");
      },
    };
    for (const binding of [undefined, {}, wrong, failing]) {
      const sync = counted();
      const lstat = StatCall.choose({ lstatSync: sync.fn, binding }, process.execPath);
      const before = sync.calls();
      assert.equal(lstat(join(root, "a.txt")), viaSync(join(root, "a.txt")));
      assert.is(sync.calls(), before + 1, "through lstatSync");
    }
  }));

test.run();
