// What the agent knows of the tree's files, on real files in a temp dir: its change count moves with
// every real change and only then (an unchanged cache is not saved again); content seen under another
// path, cached or let go of, is found by digest with its manifest; a path is departed when nothing is
// there or another file is (a rotated log), not while its own file stays; a file's entry follows it
// to its new path when its directory moved (a renamed file's own ctime changed, so its entry is not
// trusted), and the new path says once where it was; a write through one name of a file makes its
// other names (hard links) stale, wherever its moves have taken them, and so does a name of it
// found gone or replaced.
import { appendFileSync, linkSync, mkdirSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Digest } from "../../core/Digest.ts";
import * as KnownFiles from "../../adapters/agent/KnownFiles.ts";
import type { Cached } from "../../adapters/agent/StatCache.ts";
import * as StatCall from "../../adapters/agent/StatCall.ts";
import * as TreeScan from "../../adapters/agent/TreeScan.ts";
import { inTempDir } from "../tempDir.ts";

const within = (body: (dir: string) => Promise<void>): Promise<void> => inTempDir("tidemark-knownfiles-", body);

const statAtUnder = (root: string) => (path: string) => {
  try {
    return StatCall.lstat(join(root, path));
  } catch {
    return undefined;
  }
};

/** An entry for the file at `path` as it is now, with content digest `digest` and a one-chunk manifest named after it. */
const entryNow = (root: string, path: string, digest: string): Cached => {
  const st = statAtUnder(root)(path)!;
  const meta = { type: "file" as const, size: st.size, mode: st.mode & 0o7777, mtimeMs: Math.floor(st.mtimeMs), digest: digest as Digest, linkTarget: null };
  return { key: TreeScan.statKey(st), readAt: 0, meta, manifest: [{ digest: `${digest}-chunk` as Digest, size: st.size }] };
};

test("the change count moves with each real change, and only then", () =>
  within(async (root) => {
    writeFileSync(join(root, "a.txt"), "a\n");
    const known = KnownFiles.make(statAtUnder(root));
    const start = known.changes();
    known.put("a.txt", entryNow(root, "a.txt", "d1"));
    assert.ok(known.changes() > start, "a put is a change");
    const afterPut = known.changes();
    assert.is(known.drop("missing.txt"), false);
    assert.is(known.changes(), afterPut, "dropping nothing is no change");
    known.touched();
    assert.ok(known.changes() > afterPut, "an entry changed in place is a change");
    const beforeDrop = known.changes();
    assert.is(known.drop("a.txt"), true);
    assert.ok(known.changes() > beforeDrop, "a drop is a change");
    assert.is(known.get("a.txt"), undefined);
  }));

test("content seen under another path is found by digest, cached or let go of, with its manifest", () =>
  within(async (root) => {
    writeFileSync(join(root, "a.txt"), "a\n");
    writeFileSync(join(root, "b.txt"), "b\n");
    const known = KnownFiles.make(statAtUnder(root));
    const a = entryNow(root, "a.txt", "d-a");
    known.put("a.txt", a);
    assert.is(known.seenElsewhere("copy.txt", "d-a"), true);
    assert.is(known.seenElsewhere("a.txt", "d-a"), false, "its own entry is not elsewhere");
    assert.is(known.seenElsewhere("copy.txt", "d-never"), false);
    assert.is(known.seenElsewhere("copy.txt", null), false);
    // b.txt's first version is let go of (read again after a change): still known by its digest.
    const b1 = entryNow(root, "b.txt", "d-b1");
    known.put("b.txt", b1);
    known.letGo(b1);
    known.put("b.txt", entryNow(root, "b.txt", "d-b2"));
    assert.is(known.seenElsewhere("other.txt", "d-b1"), true);
    assert.equal(known.manifestOf("b.txt", "d-b1"), b1.manifest);
    assert.equal(known.manifestOf("a.txt", "d-a"), a.manifest);
    assert.is(known.manifestOf("a.txt", "d-never"), undefined);
    // Counting follows replacements and drops: a.txt gone, its content is no longer held anywhere.
    known.drop("a.txt");
    assert.is(known.seenElsewhere("copy.txt", "d-a"), false);
  }));

test("a path is departed when nothing or another file is there; a moved file's entry follows it", () =>
  within(async (root) => {
    mkdirSync(join(root, "dir"));
    for (const name of ["log", "stay.txt", "renaming.txt", "dir/inside.txt"]) writeFileSync(join(root, name), `${name}\n`);
    const known = KnownFiles.make(statAtUnder(root));
    for (const name of ["log", "stay.txt", "renaming.txt", "dir/inside.txt"]) known.put(name, entryNow(root, name, `d-${name}`));
    renameSync(join(root, "log"), join(root, "log.1"));
    writeFileSync(join(root, "log"), "a new log\n");
    renameSync(join(root, "renaming.txt"), join(root, "renamed.txt"));
    renameSync(join(root, "dir"), join(root, "moved"));
    assert.is(known.departed("log"), true, "another file (inode) is at log now");
    assert.is(known.departed("renaming.txt"), true);
    assert.is(known.departed("stay.txt"), false);
    // A renamed file's ctime changed: its entry is not trusted, but where it was is said, once.
    assert.is(known.entryFor("renamed.txt", statAtUnder(root)("renamed.txt")!), undefined);
    assert.is(known.takeFormer("renamed.txt"), "renaming.txt");
    assert.is(known.takeFormer("renamed.txt"), undefined, "a former path is said once");
    // A file whose directory moved keeps all its stat data: its entry moves with it.
    const taken = known.entryFor("moved/inside.txt", statAtUnder(root)("moved/inside.txt")!);
    assert.ok(taken !== undefined, "the moved file's entry was not taken over");
    assert.is(taken.meta.digest, "d-dir/inside.txt");
    assert.is(known.get("dir/inside.txt"), undefined, "the old path keeps no entry");
    assert.is(known.takeFormer("moved/inside.txt"), "dir/inside.txt");
  }));

test("a write through one name of a file makes its other names stale, until they are read again", () =>
  within(async (root) => {
    writeFileSync(join(root, "a.txt"), "one file, two names\n");
    linkSync(join(root, "a.txt"), join(root, "b.txt"));
    writeFileSync(join(root, "single.txt"), "one name\n");
    const statAt = statAtUnder(root);
    const known = KnownFiles.make(statAt);
    for (const name of ["a.txt", "b.txt", "single.txt"]) known.put(name, entryNow(root, name, "d1"));
    assert.equal(known.staleLinks("a.txt", statAt("a.txt")!), [], "nothing changed yet");
    appendFileSync(join(root, "a.txt"), "written through a.txt\n");
    known.put("a.txt", entryNow(root, "a.txt", "d2"));
    assert.equal(known.staleLinks("a.txt", statAt("a.txt")!), ["b.txt"]);
    known.put("b.txt", entryNow(root, "b.txt", "d2"));
    assert.equal(known.staleLinks("b.txt", statAt("b.txt")!), [], "both names read as they are now");
    appendFileSync(join(root, "single.txt"), "more\n");
    assert.equal(known.staleLinks("single.txt", statAt("single.txt")!), []);
    // A name unlinked is no longer one of the file's names.
    unlinkSync(join(root, "b.txt"));
    known.drop("b.txt");
    appendFileSync(join(root, "a.txt"), "again\n");
    assert.equal(known.staleLinks("a.txt", statAt("a.txt")!), []);
  }));

test("a file's other name is still found after its directory moved again and again", () =>
  within(async (root) => {
    mkdirSync(join(root, "d0"));
    writeFileSync(join(root, "d0", "f.txt"), "linked\n");
    linkSync(join(root, "d0", "f.txt"), join(root, "h.txt"));
    const statAt = statAtUnder(root);
    const known = KnownFiles.make(statAt);
    known.put("d0/f.txt", entryNow(root, "d0/f.txt", "d0"));
    known.put("h.txt", entryNow(root, "h.txt", "d0"));
    assert.equal(known.staleLinks("h.txt", statAt("h.txt")!), []);
    for (let i = 1; i <= 3; i++) {
      renameSync(join(root, `d${i - 1}`), join(root, `d${i}`));
      const path = `d${i}/f.txt`;
      // As the agent reads them: the old path found gone, the new one read (a file with another name
      // is not taken for moved: that name still holds it).
      known.drop(`d${i - 1}/f.txt`);
      appendFileSync(join(root, path), `written at ${path}\n`);
      known.put(path, entryNow(root, path, `d${i}`));
      // h.txt is not read meanwhile: it stays stale.
      assert.equal(known.staleLinks(path, statAt(path)!), ["h.txt"], `written through ${path}`);
    }
  }));

test("a name found gone or replaced gives the file's other names, which may have changed unseen", () =>
  within(async (root) => {
    writeFileSync(join(root, "a.txt"), "one file\n");
    for (const name of ["b.txt", "c.txt"]) linkSync(join(root, "a.txt"), join(root, name));
    writeFileSync(join(root, "other.txt"), "another file\n");
    const statAt = statAtUnder(root);
    const known = KnownFiles.make(statAt);
    for (const name of ["a.txt", "b.txt", "c.txt", "other.txt"]) known.put(name, entryNow(root, name, `d-${name}`));
    assert.equal(known.namesLeft("a.txt", statAt("a.txt")), [], "still there: nothing left");
    // Written through b.txt, which is removed before it is read.
    appendFileSync(join(root, "b.txt"), "written through b.txt\n");
    unlinkSync(join(root, "b.txt"));
    assert.equal([...known.namesLeft("b.txt", undefined)].sort(), ["a.txt", "c.txt"]);
    known.drop("b.txt");
    // Written through c.txt, which another file then replaces.
    appendFileSync(join(root, "c.txt"), "written through c.txt\n");
    renameSync(join(root, "other.txt"), join(root, "c.txt"));
    assert.equal(known.namesLeft("c.txt", statAt("c.txt")), ["a.txt"]);
    assert.equal(known.namesLeft("nothing.txt", undefined), [], "nothing remembered there");
    // A renamed file's new name, read already (its entry matches), is nothing to look at again.
    writeFileSync(join(root, "plain.txt"), "renamed\n");
    known.put("plain.txt", entryNow(root, "plain.txt", "d-plain"));
    renameSync(join(root, "plain.txt"), join(root, "renamed.txt"));
    known.put("renamed.txt", entryNow(root, "renamed.txt", "d-plain"));
    assert.equal(known.namesLeft("plain.txt", undefined), []);
  }));

test.run();
