// The store server's RecentChunks: a chunk read once is served from memory the next time; past its
// byte bound the oldest chunks are let go of and read again; a chunk not found is not kept.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as RecentChunks from "../../adapters/server/RecentChunks.ts";

const stored = new Map([["a", new Uint8Array(40)], ["b", new Uint8Array(40)], ["c", new Uint8Array(40)], ["huge", new Uint8Array(200)]]);

const counting = () => {
  const reads: Array<string> = [];
  const read = async (d: string) => {
    reads.push(d);
    return stored.get(d);
  };
  return { reads, read };
};

test("a chunk read again is served from memory", async () => {
  const { reads, read } = counting();
  const recent = RecentChunks.make(read, 100);
  assert.is(await recent.read("a"), stored.get("a"));
  assert.is(await recent.read("a"), stored.get("a"));
  assert.equal(reads, ["a"]);
});

test("past the bound the oldest chunk goes first; one larger than the bound and one not found are never kept", async () => {
  const { reads, read } = counting();
  const recent = RecentChunks.make(read, 100);
  for (const d of ["a", "b", "c", "b", "a", "huge", "huge", "none", "none"]) await recent.read(d);
  // a, b kept (80 bytes); c pushes a out; b is kept; a is read again (pushing b out); huge and none are read each time.
  assert.equal(reads, ["a", "b", "c", "a", "huge", "huge", "none", "none"]);
});

test.run();
