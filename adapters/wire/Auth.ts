/**
 * Auth — the shared-secret challenge-response of the hello (DESIGN §5): the store sends a random
 * nonce, the client answers with an HMAC-SHA256 over the nonce and what it asks for, keyed by the
 * secret. The secret itself never crosses the wire.
 *
 * @example
 * import * as Auth from "./Auth.ts";
 * const secret = await Auth.readSecret("/etc/tidemark/secret");
 * const mac = Auth.prove(secret, nonce, "agent", "laptop");
 * Auth.verify(secret, nonce, "agent", "laptop", mac)   // true
 *
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";

/** A fresh challenge nonce (32 hex digits). */
export const nonce = (): string => randomBytes(16).toString("hex");

/** The proof of the secret for one hello. */
export const prove = (secret: Uint8Array, challenge: string, role: string, source: string | null): string =>
  createHmac("sha256", secret).update(`tidemark/1\n${challenge}\n${role}\n${source ?? ""}`).digest("hex");

/** True when `mac` proves the secret for this hello (compared in constant time). */
export const verify = (secret: Uint8Array, challenge: string, role: string, source: string | null, mac: string | null): boolean => {
  if (mac === null) return false;
  const expected = Buffer.from(prove(secret, challenge, role, source), "hex");
  const given = Buffer.from(mac, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
};

/** Reads a secret file: its bytes without a trailing newline; an empty or missing file is an error. */
export const readSecret = async (file: string): Promise<Uint8Array> => {
  let text: Buffer;
  try {
    text = await readFile(file);
  } catch (e) {
    throw new Error(`cannot read the secret file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let end = text.length;
  while (end > 0 && (text[end - 1] === 0x0a || text[end - 1] === 0x0d)) end--;
  if (end === 0) throw new Error(`the secret file ${file} is empty`);
  return new Uint8Array(text.subarray(0, end));
};
