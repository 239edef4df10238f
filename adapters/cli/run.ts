/**
 * Runs the command line under any runtime that loads TypeScript itself (Deno), or under Node with
 * tsx: `deno run --allow-all adapters/cli/run.ts status --store 127.0.0.1:7420`.
 *
 * @module
 */
import process from "node:process";
import { endOnStrayFailure, main } from "./main.ts";

endOnStrayFailure(process.argv.slice(2));
process.exit(await main(process.argv.slice(2)));
