/**
 * Command — how the benchmarks run tidemark's processes: as the `tidemark` command runs, with the Node
 * flags its first line passes (`#!/usr/bin/env -S node FLAGS`), read from that line so the two cannot
 * drift apart. The store and restores run the command itself; the resync benchmark's agent, which is
 * not the command but the same agent code, runs under the same flags.
 *
 * @example
 * spawn(process.execPath, [...Command.nodeFlags, Command.cli, "store", "serve", "--data", dir]);
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The `tidemark` command's script. */
export const cli = fileURLToPath(new URL("../adapters/cli/tidemark.mjs", import.meta.url));

/**
 * The Node flags in a script's first line, when it runs node through `env -S` (none otherwise).
 *
 * @example
 * flagsOf("#!/usr/bin/env -S node --v8-pool-size=1\n…")   // ["--v8-pool-size=1"]
 */
export const flagsOf = (script: string): ReadonlyArray<string> => {
  const first = script.slice(0, script.indexOf("\n"));
  const m = /^#!\/usr\/bin\/env -S node((?:\s+\S+)*)\s*$/.exec(first);
  return m === null ? [] : m[1]!.trim().split(/\s+/).filter((f) => f !== "");
};

/** The Node flags the `tidemark` command runs with. */
export const nodeFlags: ReadonlyArray<string> = flagsOf(readFileSync(cli, "utf8"));
