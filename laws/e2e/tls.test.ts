// TLS through the command line: a store serving TLS; readers that trust it by CA file or by a pinned
// SHA-256 are served, a wrong pin or no trust at all is refused, and a plain-TCP client gets nowhere.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { startStore, stop, tidemark } from "./harness.ts";

const test = suite("TLS");
const fixtures = fileURLToPath(new URL("../fixtures/tls/", import.meta.url));
const cert = join(fixtures, "cert.pem");
const pin = "CF:91:5F:D3:EA:EF:CF:95:99:CB:B7:96:21:F7:17:D8:12:3B:DC:FD:6B:98:E6:DF:28:A4:9B:65:C5:9D:6C:7D";
let work = "";
let store: Awaited<ReturnType<typeof startStore>>;

test.before(async () => {
  work = await mkdtemp(join(tmpdir(), "tidemark-tls-"));
  store = await startStore(join(work, "store"), ["--tls-cert", cert, "--tls-key", join(fixtures, "key.pem")]);
});
test.after(async () => {
  await stop(store, "SIGKILL");
  await rm(work, { recursive: true, force: true });
});

test("a reader trusting the CA file or pinning the certificate is served", async () => {
  const byCa = await tidemark(["status", "--store", store.address, "--tls-ca", cert]);
  assert.is(byCa.code, 0, byCa.stderr);
  const byPin = await tidemark(["status", "--store", store.address, "--tls-pin", pin.toLowerCase()]);
  assert.is(byPin.code, 0, byPin.stderr);
});

test("a wrong pin, no trust, or plain TCP are refused with one clear line", async () => {
  const wrongPin = await tidemark(["status", "--store", store.address, "--tls-pin", "00".repeat(32)]);
  assert.is(wrongPin.code, 1);
  assert.match(wrongPin.stderr, /does not match the pinned SHA-256/);
  const untrusted = await tidemark(["status", "--store", store.address, "--tls-pin", pin.slice(0, 10)]);
  assert.is(untrusted.code, 2, "a malformed pin is bad usage");
  const plain = await tidemark(["status", "--store", store.address]);
  assert.is(plain.code, 1);
  assert.is(plain.stderr.trim().split("\n").length, 1, plain.stderr);
});

test("SIGTERM stops a TLS store even with a half-open handshake from a plain client", async () => {
  const { connect } = await import("node:net");
  const [host, port] = [store.address.slice(0, store.address.lastIndexOf(":")), Number(store.address.slice(store.address.lastIndexOf(":") + 1))];
  const lingering = connect({ host, port });
  lingering.on("error", () => {});
  await new Promise((r) => setTimeout(r, 200));
  const code = await Promise.race([stop(store), new Promise((r) => setTimeout(() => r("still running after 10 s"), 10_000))]);
  lingering.destroy();
  assert.is(code, 0);
});

test.run();
