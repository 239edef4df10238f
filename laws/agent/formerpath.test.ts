// Where a moved item was before, from the stat cache's inodes, on real files in a temp dir: a
// renamed file and a moved directory are found; a hard link (the old path still holds the file), a
// copy (another inode) and a directory whose old path is still there are not; and a file read at its
// new path takes over its former entry when its stat data are unchanged, so it is not read again.
// A directory moved while nobody watched is found from either end through the files remembered at
// paths the tree no longer has.
import { linkSync, mkdirSync, renameSync, writeFileSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { ItemPath } from "../../core/ItemPath.ts";
import * as FormerPath from "../../adapters/agent/FormerPath.ts";
import * as LocalTree from "../../adapters/agent/LocalTree.ts";
import * as Remembered from "../../adapters/agent/Remembered.ts";
import type { Cached } from "../../adapters/agent/StatCache.ts";
import * as StatCall from "../../adapters/agent/StatCall.ts";
import * as TreeScan from "../../adapters/agent/TreeScan.ts";
import { inTempDir } from "../tempDir.ts";

const within = (body: (dir: string) => Promise<void>): Promise<void> => inTempDir("tidemark-formerpath-", body);

/** A cache remembering each path as it is now, and an `lstat` of item paths under `root`. */
const remembering = (root: string, paths: ReadonlyArray<string>) => {
  const statAt = (path: string) => {
    try {
      return StatCall.lstat(join(root, path));
    } catch {
      return undefined;
    }
  };
  const cache = Remembered.make();
  for (const path of paths) {
    const st = statAt(path)!;
    const entry: Cached = { key: TreeScan.statKey(st), readAt: 0, meta: { type: "file", size: st.size, mode: st.mode & 0o7777, mtimeMs: Math.floor(st.mtimeMs), digest: null, linkTarget: null }, manifest: [] };
    cache.set(path, entry);
  }
  return { cache, statAt };
};

test("a renamed file is found at its old path; a hard link and a copy are not moves", () =>
  within(async (root) => {
    for (const name of ["a.txt", "b.txt", "c.txt"]) writeFileSync(join(root, name), `${name}\n`);
    const { cache, statAt } = remembering(root, ["a.txt", "b.txt", "c.txt"]);
    renameSync(join(root, "a.txt"), join(root, "renamed.txt"));
    linkSync(join(root, "b.txt"), join(root, "link.txt"));
    copyFileSync(join(root, "c.txt"), join(root, "copy.txt"));
    const former = (path: string) => FormerPath.ofFile(cache, path, statAt(path)!, statAt);
    assert.is(former("renamed.txt"), "a.txt");
    assert.is(former("link.txt"), undefined);
    assert.is(former("copy.txt"), undefined);
    assert.is(former("b.txt"), undefined); // its own entry
  }));

test("a moved directory is found through its files, unless its old path is still a directory", () =>
  within(async (root) => {
    mkdirSync(join(root, "dir", "inner"), { recursive: true });
    mkdirSync(join(root, "keep"));
    writeFileSync(join(root, "dir", "inner", "f.txt"), "f\n");
    writeFileSync(join(root, "keep", "g.txt"), "g\n");
    const { cache, statAt } = remembering(root, ["dir/inner/f.txt", "keep/g.txt"]);
    renameSync(join(root, "dir"), join(root, "moved"));
    assert.is(FormerPath.ofDirectory(cache, "moved", ["moved/inner", "moved/inner/f.txt"], statAt), "dir");
    assert.is(FormerPath.ofDirectory(cache, "moved/inner", ["moved/inner/f.txt"], statAt), "dir/inner");
    // Its files moved into a new directory, the old one left in place: the files moved, not the directory.
    mkdirSync(join(root, "fresh"));
    renameSync(join(root, "keep", "g.txt"), join(root, "fresh", "g.txt"));
    assert.is(FormerPath.ofDirectory(cache, "fresh", ["fresh/g.txt"], statAt), undefined);
    assert.is(FormerPath.ofFile(cache, "fresh/g.txt", statAt("fresh/g.txt")!, statAt), "keep/g.txt");
  }));

test("a directory moved while nobody watched is found from either end, through files remembered at paths the tree lacks; a copy, a file moved alone and a directory kept are not", () =>
  within(async (root) => {
    mkdirSync(join(root, "dir", "inner"), { recursive: true });
    mkdirSync(join(root, "keep"));
    for (const name of ["a.txt", "b.txt"]) writeFileSync(join(root, "dir", "inner", name), `${name}\n`);
    writeFileSync(join(root, "keep", "g.txt"), "g\n");
    const remembered = ["dir/inner/a.txt", "dir/inner/b.txt", "keep/g.txt"];
    const { statAt } = remembering(root, remembered);
    const inodes = new Map(remembered.map((p) => [p, statAt(p)!.ino] as const));
    renameSync(join(root, "dir"), join(root, "moved"));
    mkdirSync(join(root, "copied"));
    copyFileSync(join(root, "keep", "g.txt"), join(root, "copied", "g.txt"));
    mkdirSync(join(root, "fresh"));
    renameSync(join(root, "keep", "g.txt"), join(root, "fresh", "g.txt"));
    const listing = ["copied", "copied/g.txt", "fresh", "fresh/g.txt", "keep", "moved", "moved/inner", "moved/inner/a.txt", "moved/inner/b.txt"];
    const gone = remembered.map((p) => [p, inodes.get(p)!] as const);
    assert.is(FormerPath.predecessorOf("moved", ["moved/inner", "moved/inner/a.txt"], gone, statAt), "dir");
    assert.is(FormerPath.predecessorOf("moved/inner", ["moved/inner/a.txt"], gone, statAt), "dir/inner");
    assert.is(FormerPath.successorOf("dir", gone.slice(0, 2), listing, statAt), "moved");
    assert.is(FormerPath.successorOf("dir/inner", gone.slice(0, 2), listing, statAt), "moved/inner");
    // The copy is another file; "fresh" took a file of "keep", which is still there.
    assert.is(FormerPath.predecessorOf("copied", ["copied/g.txt"], gone, statAt), undefined);
    assert.is(FormerPath.predecessorOf("fresh", ["fresh/g.txt"], gone, statAt), undefined);
    // Found in the listing only under the same path below the other directory.
    assert.is(FormerPath.successorOf("dir", [["dir/inner/a.txt", inodes.get("dir/inner/a.txt")!]], ["moved", "moved/a.txt"], statAt), undefined);
  }));

test("a file whose directory moved is read from its former cache entry, and says where it was", () =>
  within(async (root) => {
    mkdirSync(join(root, "dir"));
    const bytes = "content that is not read again\n".repeat(100);
    writeFileSync(join(root, "dir", "f.txt"), bytes);
    await new Promise((r) => setTimeout(r, 150)); // read past the racy-timestamp window, so its entry is trusted
    const tree = LocalTree.make(root);
    const first = await tree.read("dir/f.txt" as ItemPath);
    renameSync(join(root, "dir"), join(root, "moved"));
    const peeked = await tree.peek("moved/f.txt" as ItemPath);
    assert.ok(peeked !== undefined, "the moved file's former entry was not taken over");
    assert.equal(peeked.meta, first!.meta);
    assert.is(tree.takeFormer("moved/f.txt" as ItemPath), "dir/f.txt");
    assert.is(tree.takeFormer("moved/f.txt" as ItemPath), undefined);
  }));

test.run();
