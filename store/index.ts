/**
 * tidemark/store — the remote store: an event-sourced log with projections on any abstract-level
 * database (classic-level by default), chunks by digest, point-in-time queries and restore.
 *
 * @example
 * import { Store, Restore } from "tidemark/store";
 *
 * @module
 */
export * as Database from "./Database.ts";
export * as Keys from "./Keys.ts";
export * as Restore from "./Restore.ts";
export * as Retention from "./Retention.ts";
export * as Store from "./Store.ts";
export * as StoreError from "./StoreError.ts";
