#!/usr/bin/env node
// The `tidemark` command: registers tsx so the TypeScript sources run as they are, then starts the CLI.
// It exits as soon as the command is done, whatever timers or sockets a library left behind.
import { register } from "tsx/esm/api";

register();
const { main } = await import("./main.ts");
process.exit(await main(process.argv.slice(2)));
