#!/usr/bin/env node
// The `tidemark` command. It runs from one bundle of the TypeScript sources (bundle.mjs: built on
// first use and whenever a source changes), which starts in a sixth of the time that loading them
// through tsx takes; when no bundle can be built or written (a read-only install), through tsx.
// It exits as soon as the command is done, whatever timers or sockets a library left behind.
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
const { main } = await loaded();
process.exit(await main(process.argv.slice(2)));
