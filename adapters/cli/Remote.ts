/**
 * Remote — what every command that talks to a store shares: the connection flags (`--store`,
 * `--secret-file`, `--tls-ca`, `--tls-pin`), the command-line error type with its exit code, and
 * connecting as a reader.
 *
 * @example
 * const client = await Remote.reader(parsed);
 * const [sources] = await Remote.ask(client, { _tag: "Sources" });
 *
 * @module
 */
import { Effect } from "effect";
import * as E from "fp-ts/lib/Either.js";
import { readFile, stat } from "node:fs/promises";
import { SourceId } from "../../core/Codecs.ts";
import type * as Protocol from "../../core/Protocol.ts";
import { call, ClientFailure } from "../agent/Shell.ts";
import * as Auth from "../wire/Auth.ts";
import * as Client from "../wire/Client.ts";
import * as Link from "../wire/Link.ts";
import { type Parsed, value } from "./Args.ts";

/** A failure of a command, with its exit code (1 failed, 2 bad usage). */
export class CliError extends Error {
  readonly exitCode: 1 | 2;
  constructor(message: string, exitCode: 1 | 2) {
    super(message);
    this.exitCode = exitCode;
  }
}

export const usageError = (message: string): CliError => new CliError(message, 2);
export const failure = (message: string): CliError => new CliError(message, 1);

/** Fails (exit 1) unless `given`, the directory a command works on, is one: saying whether it is missing or something else. */
export const requireDirectory = async (given: string): Promise<void> => {
  const info = await stat(given).catch(() => undefined);
  if (info === undefined) throw failure(`${given} does not exist`);
  if (!info.isDirectory()) throw failure(`${given} is not a directory`);
};

/** The flags of every command that talks to a store. */
export const connectionFlags = { store: "value", "secret-file": "value", "tls-ca": "value", "tls-pin": "value", json: "switch" } as const;

/** A required flag's value. */
export const required = (p: Parsed, name: string): string => {
  const v = value(p, name);
  if (v === undefined) throw usageError(`--${name} is required`);
  return v;
};

/** The `--store` address, checked. */
export const storeAddress = (p: Parsed): string => {
  const address = required(p, "store");
  if (E.isLeft(Link.parseAddress(address))) throw usageError(`--store ${JSON.stringify(address)} is not HOST:PORT`);
  return address;
};

/** The `--source` name, checked. */
export const sourceName = (p: Parsed): SourceId => {
  const name = required(p, "source");
  if (!SourceId.is(name)) throw usageError(`--source ${JSON.stringify(name)} is not a valid source name (1-128 of A-Z a-z 0-9 . _ -, not starting with a dot)`);
  return name;
};

/** The secret from `--secret-file`, if given. */
export const secret = async (p: Parsed): Promise<Uint8Array | null> => {
  const file = value(p, "secret-file");
  if (file === undefined) return null;
  try {
    return await Auth.readSecret(file);
  } catch (e) {
    throw failure((e as Error).message);
  }
};

/** TLS settings from `--tls-ca` / `--tls-pin`, if either is given. */
export const tls = async (p: Parsed): Promise<Client.TlsOptions | undefined> => {
  const caFile = value(p, "tls-ca");
  const pin = value(p, "tls-pin");
  if (caFile === undefined && pin === undefined) return undefined;
  if (pin !== undefined && !/^([0-9a-fA-F]{2}:?){32}$/.test(pin)) throw usageError("--tls-pin must be a SHA-256 fingerprint (64 hex digits, colons allowed)");
  const ca = caFile === undefined ? undefined : await readFile(caFile).catch(() => {
    throw failure(`cannot read the CA file ${caFile}`);
  });
  return { ca: ca === undefined ? undefined : new Uint8Array(ca), pin };
};

/** Turns a client failure into a command failure. */
export const rethrow = (e: unknown): never => {
  if (e instanceof ClientFailure) throw failure(e.message);
  throw e;
};

/** Connects as a reader. */
export const reader = async (p: Parsed): Promise<Client.Client> => {
  const address = storeAddress(p);
  const options = { address, role: "reader" as const, source: null, secret: await secret(p), tls: await tls(p) };
  return call(Client.connect(options)).catch(rethrow);
};

/** Asks a query; a failure becomes a command failure. */
export const ask = (client: Client.Client, q: Protocol.Query): Promise<ReadonlyArray<unknown>> => call(client.query(q)).catch(rethrow);

/** Connects as a reader, runs `use`, and closes the connection however `use` ends. */
export const withReader = async <A>(p: Parsed, use: (client: Client.Client) => Promise<A>): Promise<A> => {
  const client = await reader(p);
  try {
    return await use(client);
  } finally {
    await Effect.runPromise(client.close("done"));
  }
};
