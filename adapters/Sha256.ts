/**
 * Sha256 — the shell's hash function for the core: SHA-256 from `node:crypto` (SHA-NI accelerated,
 * about 2 GB/s here; runs under Deno's `node:crypto` too). The one-shot `crypto.hash` (Node 20.12+)
 * is used where there is one: for the small inputs that are most of the calls (a delta signature's
 * 512-byte pieces, an item's fingerprint) it costs ~0.95 µs a call where `createHash` costs ~1.4 µs.
 *
 * @example
 * import { sha256 } from "./Sha256.ts";
 * Manifest.build(bytes, Chunking.defaultParams, sha256)
 *
 * @module
 */
import * as crypto from "node:crypto";
import type { HashFunction } from "../core/Digest.ts";

const oneShot = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: "buffer") => Uint8Array }).hash;

/** SHA-256 of some bytes. */
export const sha256: HashFunction = typeof oneShot === "function"
  ? (bytes) => {
    const d = oneShot("sha256", bytes, "buffer");
    return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  }
  : (bytes) => new Uint8Array(crypto.createHash("sha256").update(bytes).digest());
