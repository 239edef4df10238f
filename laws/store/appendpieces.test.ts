// appendPieces: every byte of every piece reaches the file in order, however short each write is.
import fc from "fast-check";
import { test } from "uvu";
import { type Appendable, appendPieces } from "../../store/Chunks.ts";
import { check } from "../property.ts";

/** A file whose vectored writes take at most `most` bytes (and at most `iov` pieces) per call. */
const shortWriting = (most: number, iov: number) => {
  const written: Array<number> = [];
  const file: Appendable = {
    writev: async (buffers) => {
      if (buffers.length > iov) throw new Error(`${buffers.length} pieces in one write`);
      let left = most;
      for (const b of buffers) {
        const n = Math.min(left, b.length);
        written.push(...b.subarray(0, n));
        left -= n;
        if (n < b.length) break;
      }
      return { bytesWritten: most - left };
    },
  };
  return { file, written };
};

const writesEverything = async (pieces: ReadonlyArray<Uint8Array>, most: number): Promise<boolean> => {
  const { file, written } = shortWriting(most, 1024);
  await appendPieces(file, pieces);
  const expected = pieces.flatMap((p) => [...p]);
  return written.length === expected.length && written.every((b, i) => b === expected[i]);
};

test("pieces land whole and in order through short writes", () =>
  check(fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 50 }), { maxLength: 12 }), fc.integer({ min: 1, max: 200 }), writesEverything), 300));

test("more pieces than one vectored write takes go in groups", async () => {
  const pieces = Array.from({ length: 2500 }, (_, i) => new Uint8Array([i & 255, i >> 8]));
  if (!(await writesEverything(pieces, 1 << 20))) throw new Error("bytes lost or reordered");
});

test.run();
