#!/usr/bin/env -S node --v8-pool-size=1
// The `tidemark` command. It runs from one bundle of the TypeScript sources (bundle.mjs: built on
// first use and whenever a source changes), which starts in a sixth of the time that loading them
// through tsx takes; when no bundle can be built or written (a read-only install), through tsx.
// It exits as soon as the command is done, whatever timers or sockets a library left behind.
//
// Node runs it with one V8 helper thread (`--v8-pool-size=1`; the default is four), for garbage
// collection and compiling in the background. An agent shares its host with the application it
// protects: with four helpers on this 2-core machine, the agent's own thread waited for them and the
// store's process for the cores. The same agent build with and without it, in alternating runs on
// the benchmark's trees (medians of 10): a resync after 1 % of files edited 191 ms against 220 ms;
// nothing changed 118 against 130; one file changed in 100,000, 501 against 527 (of 6); a 1 GiB
// restore took 3.1–3.5 s against 3.3–3.9 s. Run as `node tidemark.mjs …`, it works the same without
// the flag. (`env -S` is in GNU coreutils since 8.30 and in the BSDs and macOS.)
import { fileURLToPath, pathToFileURL } from "node:url";
import { packageBundle } from "./bundle.mjs";

const bundle = packageBundle(fileURLToPath(new URL("./main.ts", import.meta.url)), "cli");
const loaded = async () => {
  // A bundle that does not load (it should not happen) costs the fast start, not the command.
  if (bundle !== undefined) {
    const fromBundle = await import(pathToFileURL(bundle).href).catch(() => undefined);
    if (fromBundle !== undefined) return fromBundle;
  }
  const { register } = await import("tsx/esm/api");
  register();
  return import("./main.ts");
};
const { endOnStrayFailure, main } = await loaded();
endOnStrayFailure(process.argv.slice(2));
process.exit(await main(process.argv.slice(2)));
