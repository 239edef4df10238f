// The bundle the `tidemark` command runs from: built from a small TypeScript project in a temporary
// directory, run, and rebuilt when a source changes, is added or is removed; a source that does not
// compile, or a place it cannot be written, gives no bundle (the command then loads the sources
// through tsx).
import { lstatSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, unlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { freshBundle } from "../../adapters/cli/bundle.mjs";

/** A project of two modules whose entry exports `word()`; `write` replaces the second. `deep`: it lies under a long path. */
const withProject = async (body: (p: { readonly bundle: () => string | undefined; readonly write: (word: string) => Promise<void>; readonly dir: string }) => Promise<void>, deep = false) => {
  const top = await mkdtemp(join(tmpdir(), "tidemark-bundle-"));
  const dir = deep ? join(top, "a".repeat(120), "b".repeat(120), "c".repeat(120)) : top;
  const src = join(dir, "src");
  let version = 0;
  const write = async (word: string): Promise<void> => {
    await writeFile(join(src, "word.ts"), `export const value: string = ${JSON.stringify(word)};\n`);
    // A second later than any earlier version: the change shows however coarse the file system's clock.
    const when = new Date(Date.now() + 1000 * ++version);
    await utimes(join(src, "word.ts"), when, when);
  };
  try {
    await mkdir(src, { recursive: true });
    await writeFile(join(src, "main.ts"), `import { value } from "./word.ts";\nexport const word = (): string => value;\n`);
    await write("one");
    const bundle = () => freshBundle({ entry: join(src, "main.ts"), sources: [src], out: join(dir, "cache", "main.mjs") });
    await body({ bundle, write, dir });
  } finally {
    await rm(top, { recursive: true, force: true });
  }
};

let loads = 0;
/** What the bundle at `file` exports as `word()` (a fresh load each time). */
const wordOf = async (file: string): Promise<string> => (await import(`${pathToFileURL(file).href}?load=${++loads}`)).word();

test("a bundle is built from the sources, runs, and is reused while they are unchanged", async () => {
  await withProject(async ({ bundle }) => {
    const file = bundle();
    assert.ok(file !== undefined, "no bundle was built");
    assert.is(await wordOf(file!), "one");
    assert.match((await readFile(file!, "utf8")).split("\n")[0]!, /^\/\/ tidemark bundle of .*main\.ts from 2:/);
    const built = lstatSync(file!);
    assert.is(bundle(), file);
    const again = lstatSync(file!);
    assert.is(again.ino, built.ino, "rebuilt although no source changed");
    assert.is(again.mtimeMs, built.mtimeMs, "rewritten although no source changed");
  });
});

test("a bundle under a long path is reused too (its first line names the entry)", async () => {
  await withProject(async ({ bundle }) => {
    const first = lstatSync(bundle()!).ino;
    assert.is(lstatSync(bundle()!).ino, first, "rebuilt although no source changed");
  }, true);
});

test("a changed, added or removed source rebuilds the bundle", async () => {
  await withProject(async ({ bundle, write, dir }) => {
    assert.is(await wordOf(bundle()!), "one");
    await write("two");
    assert.is(await wordOf(bundle()!), "two");
    // A new module (however old its time) changes the count of sources; removing it changes it back.
    const before = lstatSync(bundle()!).ino;
    const extra = join(dir, "src", "extra.ts");
    await writeFile(extra, "export const unused = 1;\n");
    await utimes(extra, new Date(0), new Date(0));
    const withExtra = lstatSync(bundle()!).ino;
    assert.is.not(withExtra, before, "not rebuilt after a source was added");
    assert.is(lstatSync(bundle()!).ino, withExtra);
    await unlink(extra);
    assert.is.not(lstatSync(bundle()!).ino, withExtra, "not rebuilt after a source was removed");
  });
});

test("a source that does not compile, or an unwritable place, gives no bundle", async () => {
  await withProject(async ({ bundle, write, dir }) => {
    assert.ok(bundle() !== undefined);
    // A module the entry imports, broken (a module nothing imports is not compiled).
    await writeFile(join(dir, "src", "word.ts"), "export const value = ;\n");
    const later = new Date(Date.now() + 60_000);
    await utimes(join(dir, "src", "word.ts"), later, later);
    assert.is(bundle(), undefined);
    await write("three");
    assert.is(await wordOf(bundle()!), "three");
    // The cache directory's place is taken by a file: nothing can be written there.
    const blocked = join(dir, "blocked");
    await writeFile(blocked, "");
    assert.is(freshBundle({ entry: join(dir, "src", "main.ts"), sources: [join(dir, "src")], out: join(blocked, "main.mjs") }), undefined);
    assert.is(freshBundle({ entry: join(dir, "src", "main.ts"), sources: [join(dir, "missing")], out: join(dir, "cache", "other.mjs") }), undefined);
  });
});

test.run();
