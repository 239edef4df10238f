/**
 * tidemark/adapters — the world around the core: hashing, and the command line.
 *
 * @example
 * import { sha256, main } from "tidemark/adapters";
 *
 * @module
 */
export { main, usage } from "./cli/main.ts";
export { sha256 } from "./Sha256.ts";
