/**
 * Serve — `tidemark store serve --data DIR [--listen HOST:PORT] [--secret-file F] [--tls-cert F --tls-key F]`:
 * opens (creating) the LevelDB store in DIR, listens, logs each connection's end on stderr, and on
 * SIGINT or SIGTERM finishes in-flight appends, closes the store and exits 0.
 *
 * @example
 * tidemark store serve --data /var/lib/tidemark --listen 127.0.0.1:7420 --secret-file /etc/tidemark/secret
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { readFile } from "node:fs/promises";
import process from "node:process";
import { setFlagsFromString } from "node:v8";
import * as Store from "../../store/Store.ts";
import * as Server from "../server/Server.ts";
import { sha256 } from "../Sha256.ts";
import * as Link from "../wire/Link.ts";
import * as Args from "./Args.ts";
import { failure, required, secret, usageError } from "./Remote.ts";

const spec: Args.Spec = {
  flags: { data: "value", listen: "value", "secret-file": "value", "tls-cert": "value", "tls-key": "value" },
  positional: [0, 0],
};

/** The default listening address. */
export const defaultListen = "127.0.0.1:7420";

const readPem = (file: string, what: string): Promise<Uint8Array> =>
  readFile(file).then((b) => new Uint8Array(b), () => {
    throw failure(`cannot read the TLS ${what} ${file}`);
  });

const openStore = async (data: string): Promise<Store.Store> => {
  try {
    return await Store.openClassic(data, { hash: sha256 });
  } catch (e) {
    const text = String((e as { cause?: unknown }).cause ?? e);
    if (/lock/i.test(text)) throw failure(`the store in ${data} is already open in another process`);
    throw failure(`cannot open the store in ${data}: ${(e as Error).message}`);
  }
};

/**
 * How far the server's heap may grow past what a full collection left, in percent. The store's own
 * heap is small (~23 MB), but V8 counts the outside memory allocated since the last full collection
 * (socket reads, assembled frames: ~75 MB for 500 new files) against that small heap's limit and
 * collects in full every few tens of megabytes received; growing it fourfold instead of V8's
 * default for a small heap cut the full collections of scenario 6 of `bench:resync` from 13 to 2 and
 * the server's CPU time from 530–630 to 310–390 ms (5 runs each, in three pairs of runs), its peak
 * RSS 307–407 MB before, 314–356 MB after. Set for the server process alone: a library caller's
 * heap is its own.
 */
export const heapGrowingPercent = 300;

/** Runs the store server until a signal; resolves to the exit code. */
export const run = async (argv: ReadonlyArray<string>): Promise<number> => {
  const parsed = Args.parse(argv, spec);
  if (E.isLeft(parsed)) throw usageError(parsed.left);
  const p = parsed.right;
  const data = required(p, "data");
  const listen = Link.parseAddress(Args.value(p, "listen") ?? defaultListen);
  if (E.isLeft(listen)) throw usageError(`--listen ${listen.left}`);
  const [cert, key] = [Args.value(p, "tls-cert"), Args.value(p, "tls-key")];
  if ((cert === undefined) !== (key === undefined)) throw usageError("--tls-cert and --tls-key go together");
  const tls = cert === undefined ? undefined : { cert: await readPem(cert, "certificate"), key: await readPem(key!, "key") };
  const shared = await secret(p);
  setFlagsFromString(`--heap-growing-percent=${heapGrowingPercent}`);
  const store = await openStore(data);
  const helloTimeoutMs = Number(process.env["TIDEMARK_HELLO_TIMEOUT_MS"] ?? 30_000);
  let server: Server.Running;
  try {
    server = await Server.start({
      store,
      secret: shared,
      listen: listen.right,
      tls,
      helloTimeoutMs,
      log: (line) => process.stderr.write(`tidemark store: ${line}\n`),
    });
  } catch (e) {
    await store.close();
    throw failure(`cannot listen on ${listen.right.host}:${listen.right.port}: ${(e as Error).message}`);
  }
  process.stdout.write(`tidemark store listening on ${server.address}${tls === undefined ? "" : " (TLS)"}, data in ${data}\n`);
  const signal = await new Promise<string>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  process.stderr.write(`tidemark store: ${signal}: finishing in-flight appends and stopping\n`);
  await server.stop();
  return 0;
};
