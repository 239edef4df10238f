/**
 * tidemark/adapters — the world around the core: hashing, the wire (links, client, auth), the store
 * server, the agent runtime and its capture API, and the command line.
 *
 * @example
 * import { Agent, Capture, Server, sha256 } from "tidemark/adapters";
 * const agent = await Agent.start({ root, source, store: "127.0.0.1:7420", secret: null, spoolDir });
 *
 * @module
 */
export * as Agent from "./agent/Agent.ts";
export * as Capture from "./agent/Capture.ts";
export { main, usage } from "./cli/main.ts";
export * as Server from "./server/Server.ts";
export { sha256 } from "./Sha256.ts";
export * as Client from "./wire/Client.ts";
