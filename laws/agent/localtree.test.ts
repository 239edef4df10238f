// The agent's reader of the protected tree, on real files: the stat cache's racy-timestamp rule
// (fine timestamps settle after 100 ms, whole-second ones after two seconds), and reading only the
// chunks the store lacks — checked against their digests — when a file is unchanged since it was
// last read whole.
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, open, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as E from "fp-ts/lib/Either.js";
import * as LocalTree from "../../adapters/agent/LocalTree.ts";
import * as Chunking from "../../core/Chunking.ts";
import * as Manifest from "../../core/Manifest.ts";
import { sha256 } from "../../adapters/Sha256.ts";
import * as ItemPath from "../../core/ItemPath.ts";
import { bytes, random } from "../e2e/harness.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The bytes of the chunk with digest `d` in `bytes` as `manifest` cuts them. */
const pieceOf = (bytes: Uint8Array, manifest: Manifest.Manifest, d: string): Uint8Array | undefined => {
  let at = 0;
  for (const c of manifest) {
    if (c.digest === d) return bytes.subarray(at, at + c.size);
    at += c.size;
  }
  return undefined;
};

const withTree = async (body: (root: string, tree: LocalTree.LocalTree) => Promise<void>): Promise<void> => {
  const root = await mkdtemp(join(tmpdir(), "tidemark-localtree-"));
  try {
    await body(root, LocalTree.make(root));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
};

test("a file read just after it was written is not trusted by stat data until its timestamp has settled", () =>
  withTree(async (root, tree) => {
    await writeFile(join(root, "a"), "first");
    await tree.read("a" as ItemPath.ItemPath, false);
    assert.is(await tree.peek("a" as ItemPath.ItemPath), undefined, "read within the timestamp's tick");
    await sleep(150);
    await tree.read("a" as ItemPath.ItemPath, false);
    assert.ok(await tree.peek("a" as ItemPath.ItemPath), "read 150 ms after a fine timestamp");
  }));

test("a whole-second timestamp needs two seconds to settle; a fine one 100 ms", () =>
  withTree(async (root, tree) => {
    const now = Date.now() / 1000;
    await writeFile(join(root, "coarse"), "x");
    await utimes(join(root, "coarse"), Math.floor(now - 1), Math.floor(now - 1));
    await writeFile(join(root, "fine"), "y");
    // Never on a whole second (`now - 0.5` was, one run in a thousand, and then counted as coarse).
    const fine = Math.floor(now) - 0.377;
    await utimes(join(root, "fine"), fine, fine);
    await tree.read("coarse" as ItemPath.ItemPath, false);
    await tree.read("fine" as ItemPath.ItemPath, false);
    assert.is(await tree.peek("coarse" as ItemPath.ItemPath), undefined);
    assert.ok(await tree.peek("fine" as ItemPath.ItemPath));
  }));

test("an unchanged file read again gives only the bytes of the chunks the store lacks, each checked", () =>
  withTree(async (root, tree) => {
    const bytes = new Uint8Array(randomBytes(1 << 20));
    await writeFile(join(root, "big"), bytes);
    await sleep(150);
    const whole = (await tree.read("big" as ItemPath.ItemPath, true))!;
    assert.ok(whole.manifest.length > 4, "several chunks");
    const lacking = whole.manifest.slice(-2).map((c) => c.digest);
    const storeHas = new Set(whole.manifest.slice(0, -2).map((c) => c.digest));
    const again = (await tree.read("big" as ItemPath.ItemPath, true, storeHas))!;
    assert.equal([...again.chunks.keys()].sort(), [...lacking].sort());
    for (const d of lacking) assert.equal(again.chunks.get(d), whole.chunks.get(d));
    assert.equal(again.manifest, whole.manifest);
    assert.equal(again.meta, whole.meta);
  }));

test("a large file is read whole, and what was read reassembles it", () =>
  withTree(async (root, tree) => {
    const bytes = new Uint8Array(randomBytes(3 << 20));
    await writeFile(join(root, "large"), bytes);
    const item = (await tree.read("large" as ItemPath.ItemPath, true))!;
    assert.is(item.meta.size, bytes.length);
    const rebuilt = Manifest.assemble(item.manifest, (d) => item.chunks.get(d));
    assert.ok(E.isRight(rebuilt) && Buffer.compare(rebuilt.right, bytes) === 0);
  }));

test("large files read at once for their manifests only (into reused buffers) each get their own, right manifest", () =>
  withTree(async (root, tree) => {
    const contents = [6, 5, 7, 6].map((mib) => new Uint8Array(randomBytes(mib << 20)));
    for (const [k, bytes] of contents.entries()) await writeFile(join(root, `f${k}`), bytes);
    const items = await Promise.all(contents.map((_, k) => tree.read(`f${k}` as ItemPath.ItemPath, false)));
    const again = await Promise.all(contents.map((_, k) => tree.read(`f${k}` as ItemPath.ItemPath, false)));
    for (const [k, bytes] of contents.entries()) {
      const expected = Manifest.build(bytes, Chunking.defaultParams, sha256).manifest;
      assert.equal(items[k]!.manifest, expected, `f${k}`);
      assert.equal(again[k]!.manifest, expected, `f${k} read again`);
      assert.is(items[k]!.chunks.size, 0, "no bytes kept");
    }
  }));

test("a changed large file read for the store gives copies of only the chunks the store lacks, still right after the reused buffers are read into again", () =>
  withTree(async (root, tree) => {
    // Seeded content: how many chunks a change makes new depends on the bytes around it (a cut point
    // can appear inside the change), so random content made this count vary from run to run.
    const rnd = random(20261201);
    const [a, b] = [bytes(rnd, 6 << 20), bytes(rnd, 5 << 20)];
    await writeFile(join(root, "a"), a);
    await writeFile(join(root, "b"), b);
    const before = (await tree.read("a" as ItemPath.ItemPath, false))!;
    a.set(bytes(rnd, 1000), 3 << 20);
    await writeFile(join(root, "a"), a);
    const storeHas: ReadonlySet<string> = Manifest.digests(before.manifest);
    const item = (await tree.read("a" as ItemPath.ItemPath, true, storeHas))!;
    const lacking = item.manifest.map((c) => c.digest).filter((d) => !storeHas.has(d));
    assert.ok(lacking.length > 0 && lacking.length < 4, `a 1,000-byte change makes a chunk or two new (${lacking.length})`);
    assert.equal([...item.chunks.keys()].sort(), [...new Set(lacking)].sort(), "exactly the chunks the store lacks");
    // Both reused buffers are read into again: the chunks kept must not be views into them.
    await Promise.all([tree.read("b" as ItemPath.ItemPath, false), tree.read("a" as ItemPath.ItemPath, false)]);
    const whole = Manifest.assemble(item.manifest, (d) => item.chunks.get(d) ?? pieceOf(a, item.manifest, d));
    assert.ok(E.isRight(whole) && Buffer.compare(whole.right, a) === 0, "the kept chunks and the held ones reassemble the file");
  }));

test("a file read ahead and then read for the store gives the same item as a read alone, with only the chunks the store lacks", () =>
  withTree(async (root, tree) => {
    const bytes = new Uint8Array(randomBytes(5 << 20));
    await writeFile(join(root, "a"), bytes);
    const before = (await tree.read("a" as ItemPath.ItemPath, false))!;
    bytes.set(randomBytes(500), 1 << 20);
    await writeFile(join(root, "a"), bytes);
    await sleep(150); // the read ahead's entry must settle for the read after it to use it
    tree.readAhead("a" as ItemPath.ItemPath);
    const storeHas: ReadonlySet<string> = Manifest.digests(before.manifest);
    const item = (await tree.read("a" as ItemPath.ItemPath, true, storeHas))!;
    assert.equal(item.manifest, Manifest.build(bytes, Chunking.defaultParams, sha256).manifest);
    const lacking = new Set(item.manifest.map((c) => c.digest).filter((d) => !storeHas.has(d)));
    assert.equal([...item.chunks.keys()].sort(), [...lacking].sort());
  }));

test("the whole tree's listing (read by a worker) is every item in key order, without excluded ones", () =>
  withTree(async (root) => {
    for (const dir of ["a", "a/b", "skip", "é"]) await mkdir(join(root, dir), { recursive: true });
    for (const file of ["a-b", "a.c", "a0", "a/x", "a/b/y", "skip/z", "é/w", "tab\tname"]) await writeFile(join(root, file), file);
    await symlink("a0", join(root, "link"));
    const tree = LocalTree.make(root, { exclude: [join(root, "skip")] });
    const expected = ["a", "a-b", "a.c", "a/b", "a/b/y", "a/x", "a0", "link", "tab\tname", "é", "é/w"].sort(ItemPath.compare);
    assert.equal(await tree.list(), expected);
    tree.prescan();
    assert.equal(await tree.list(), expected, "from a scan started ahead");
    assert.equal(await tree.list("a" as ItemPath.ItemPath), ["a/b", "a/b/y", "a/x"], "a subtree, read here");
  }));

for (const ahead of [false, true]) test(`the comparison matches files by stat data${ahead ? " (the worker's, from a scan started ahead)" : ""}: a file changed before the listing is not matched`, () =>
  withTree(async (root, tree) => {
    await writeFile(join(root, "same"), "one");
    await writeFile(join(root, "changed"), "two");
    const old = Date.now() / 1000 - 10;
    for (const f of ["same", "changed"]) await utimes(join(root, f), old, old);
    await tree.read("same" as ItemPath.ItemPath, false);
    await tree.read("changed" as ItemPath.ItemPath, false);
    await writeFile(join(root, "changed"), "two, longer");
    await utimes(join(root, "changed"), old, old); // the same mtime: only size and ctime tell
    if (ahead) tree.prescan();
    await tree.list();
    const [same, changed] = tree.cachedPrints(["same", "changed"] as Array<ItemPath.ItemPath>);
    assert.ok(same !== undefined, "unchanged: its kept fingerprint");
    assert.is(changed, undefined, "changed: to be read");
  }));

test("a scan's stat data stand for the files as listed, found by listing index or by path", () =>
  withTree(async (root, tree) => {
    for (const f of ["a", "b", "c"]) await writeFile(join(root, f), f);
    const old = Date.now() / 1000 - 10;
    for (const f of ["a", "b", "c"]) await utimes(join(root, f), old, old);
    for (const f of ["a", "b", "c"]) await tree.read(f as ItemPath.ItemPath, false);
    tree.prescan();
    const listing = await tree.list();
    const { entryAt } = tree.recall(listing);
    // Changed after the listing: the scan's data still match (the change reaches the agent as a live change).
    await writeFile(join(root, "b"), "b, longer");
    const b = listing.indexOf("b" as ItemPath.ItemPath);
    assert.ok(tree.matchesStat(listing[b]!, entryAt(b)!, b), "by its index");
    assert.ok(tree.matchesStat(listing[b]!, entryAt(b)!), "by its path");
    assert.ok(tree.matchesStat(listing[b]!, entryAt(b)!, b + 1), "a wrong index: by its path");
    await tree.list(); // read on this thread: no scan data, so a fresh lstat sees the change
    assert.not.ok(tree.matchesStat(listing[b]!, entryAt(b)!, b));
    assert.ok(tree.matchesStat(listing[0]!, entryAt(0)!, 0));
  }));

test("a file that must be read mostly anyway is read whole", () =>
  withTree(async (root, tree) => {
    await writeFile(join(root, "big"), new Uint8Array(randomBytes(1 << 20)));
    await sleep(150);
    const whole = (await tree.read("big" as ItemPath.ItemPath, true))!;
    const again = (await tree.read("big" as ItemPath.ItemPath, true, new Set([whole.manifest[0]!.digest])))!;
    assert.is(again.chunks.size, new Set(whole.manifest.map((c) => c.digest)).size);
  }));

test("an item whose name is not UTF-8 (no store can hold it) is reported, from a listing read here or by a worker, not passed over", () =>
  withTree(async (root) => {
    await mkdir(join(root, "d"));
    await writeFile(join(root, "ok"), "fine");
    await writeFile(Buffer.concat([Buffer.from(join(root, "d") + "/bad"), Buffer.from([0xff]), Buffer.from("name")]), "lost");
    for (const ahead of [false, true]) {
      const seen: Array<LocalTree.Unreadable> = [];
      const tree = LocalTree.make(root, { onUnreadable: (u) => seen.push(u) });
      if (ahead) tree.prescan();
      assert.equal(await tree.list(), ["d", "ok"], ahead ? "from a scan started ahead" : "read here");
      assert.equal(seen.map((u) => u.path), ["d/bad\ufffdname"]);
      assert.match(seen[0]!.reason, /not valid UTF-8, so it cannot be protected/);
    }
  }));

test("a tree given through a symbolic link is the directory it leads to, present and listed, its excluded paths too", () =>
  withTree(async (root) => {
    await mkdir(join(root, "real", "spool"), { recursive: true });
    await writeFile(join(root, "real", "a"), "a");
    await writeFile(join(root, "real", "spool", "s"), "spooled");
    await symlink(join(root, "real"), join(root, "link"));
    const tree = LocalTree.make(join(root, "link"), { exclude: [join(root, "link", "spool")] });
    assert.ok(tree.present(), "a link to a directory is no gone root");
    assert.equal(await tree.list(), ["a"]);
    tree.prescan();
    assert.equal(await tree.list(), ["a"], "from a scan started ahead");
  }));

test("a file over 4 GiB is reported unreadable with its size, not read", () =>
  withTree(async (root) => {
    // Sparse: no disk or memory is used for its holes.
    const handle = await open(join(root, "huge.img"), "w");
    await handle.truncate(LocalTree.maxFileBytes + 1);
    await handle.close();
    const seen: Array<LocalTree.Unreadable> = [];
    const tree = LocalTree.make(root, { onUnreadable: (u) => seen.push(u) });
    const path = ItemPath.parse("huge.img");
    assert.ok(E.isRight(path));
    const error = await tree.read(path.right).then(() => undefined, (e: unknown) => e);
    assert.ok(LocalTree.isUnreadable(error), String(error));
    assert.match(error.reason, /4\.0 GiB, and files over 4 GiB are not protected yet/);
    assert.equal(seen, [error]);
  }));

test.run();
