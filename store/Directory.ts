/**
 * Directory — creating a directory and its missing parents, failing where it cannot be made.
 *
 * Node's `mkdir(path, { recursive: true })` never settles where the kernel answers ENOENT for a child
 * of a directory that exists (procfs and sysfs do: `/proc/x`), since it reads ENOENT as "make the
 * parent first" and the parent is always there. This walk retries a child once after making its
 * parent, so such a path fails at once with the kernel's error.
 *
 * @example
 * import { makeDirectory } from "./Directory.ts";
 * await makeDirectory("/var/lib/tidemark/packs");   // resolves; "/proc/x" rejects with ENOENT
 *
 * @module
 */
import { mkdir, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";

const codeOf = (e: unknown): string | undefined => (e as { code?: string } | null)?.code;

const existsAsDirectory = (path: string): Promise<boolean> => stat(path).then((s) => s.isDirectory(), () => false);

/** Creates `path` and any missing parents; resolves when it is a directory, rejects otherwise. */
export const makeDirectory = async (path: string): Promise<void> => {
  const full = resolve(path);
  try {
    await mkdir(full);
  } catch (e) {
    const code = codeOf(e);
    if (code === "EEXIST") {
      if (await existsAsDirectory(full)) return;
      // The system's words ("EEXIST: file already exists, mkdir …") hide what is wrong: say it.
      throw Object.assign(new Error(`${full} exists and is not a directory`), { code });
    }
    const parent = dirname(full);
    if (code !== "ENOENT" || parent === full) throw e;
    await makeDirectory(parent);
    await mkdir(full).catch(async (again: unknown) => {
      if (!(codeOf(again) === "EEXIST" && (await existsAsDirectory(full)))) throw again;
    });
  }
};
