// The scan of a whole tree in a worker thread (TreeScan), on real files: with or without the calling
// thread's help it finds every directory's entries with the stat data lstat gives, skips excluded
// subtrees, and it really runs in the worker (its fallback, `undefined`, would hide a broken worker).
import { lstatSync, readdirSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as TreeScan from "../../adapters/agent/TreeScan.ts";

/** Each directory's entries (sorted "name kind key"), read here with lstat, without `skip`'s subtree. */
const expected = (root: string, skip: string): Map<string, Array<string>> => {
  const out = new Map<string, Array<string>>();
  const walk = (dir: string): void => {
    const lines: Array<string> = [];
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const child = join(dir, e.name);
      if (child === skip) continue;
      const kind = e.isFile() ? "file" : e.isDirectory() ? "dir" : "symlink";
      lines.push(`${e.name} ${kind} ${TreeScan.statKey(lstatSync(child))}`);
      if (e.isDirectory()) walk(child);
    }
    out.set(dir, lines.sort());
  };
  walk(root);
  return out;
};

const asLines = (scanned: TreeScan.Scanned): Map<string, Array<string>> =>
  new Map([...scanned].map(([dir, d]) => {
    const lines: Array<string> = [];
    for (let i = d.from; i < d.to; i++) lines.push(`${d.names[i]} ${TreeScan.kindAt(d, i)} ${TreeScan.statKey(TreeScan.statAt(d, i))}`);
    return [dir, lines.sort()];
  }));

for (const help of [false, true]) test(`a scan${help ? " shared with this thread" : ""} finds every entry with its stat data, in the worker`, async () => {
  const root = await mkdtemp(join(tmpdir(), "tidemark-scan-"));
  try {
    // Three levels of directories (so the work is shared out by subdirectory), a deep chain, a link, an excluded subtree.
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < 30; b++) {
        const dir = join(root, `a${a}`, `b${b}`);
        await mkdir(dir, { recursive: true });
        for (let f = 0; f < 4; f++) await writeFile(join(dir, `f${f}`), `${a}/${b}/${f}`);
      }
    }
    await mkdir(join(root, "deep", "x", "y", "z"), { recursive: true });
    await writeFile(join(root, "deep", "x", "y", "z", "leaf"), "leaf");
    await writeFile(join(root, "top"), "top");
    await symlink("top", join(root, "link"));
    await mkdir(join(root, "a1", "b3", "skip"));
    await writeFile(join(root, "a1", "b3", "skip", "hidden"), "no");
    const skip = join(root, "a1", "b3", "skip");
    const scan = TreeScan.scan(root, [skip]);
    if (help) await scan.help();
    const scanned = await scan.result;
    assert.ok(scanned !== undefined, "the worker ran (no fallback)");
    assert.equal(asLines(scanned!), expected(root, skip));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test.run();
