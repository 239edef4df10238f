/**
 * StoreError — why the store refused an append or a query, as tagged values with a readable line.
 *
 * @example
 * if (E.isLeft(out)) console.error(StoreError.describe(out.left));
 *
 * @module
 */
import { absurd } from "../core/Absurd.ts";

export type StoreError =
  | { readonly _tag: "InvalidEvent"; readonly index: number; readonly reason: string }
  | { readonly _tag: "WrongSource"; readonly expected: string; readonly got: string }
  | { readonly _tag: "SequenceGap"; readonly source: string; readonly expected: number; readonly got: number }
  | { readonly _tag: "StaleBase"; readonly source: string; readonly seq: number; readonly reason: string }
  | { readonly _tag: "ChunkMissing"; readonly source: string; readonly seq: number; readonly digest: string }
  | { readonly _tag: "ChunkCorrupt"; readonly source: string; readonly seq: number; readonly digest: string }
  | { readonly _tag: "EventTooLarge"; readonly source: string; readonly seq: number; readonly bytes: number; readonly limit: number }
  | { readonly _tag: "UnknownSource"; readonly source: string }
  | { readonly _tag: "UnknownCheckpoint"; readonly source: string; readonly label: string }
  | { readonly _tag: "InvalidChunks"; readonly reason: string };

/** One line saying what was refused and what to do. */
export const describe = (e: StoreError): string => {
  switch (e._tag) {
    case "InvalidEvent":
      return `event ${e.index} is invalid: ${e.reason}`;
    case "WrongSource":
      return `event for source ${JSON.stringify(e.got)} sent in an append to ${JSON.stringify(e.expected)}`;
    case "SequenceGap":
      return `sequence gap in ${JSON.stringify(e.source)}: expected ${e.expected}, got ${e.got}; the agent must resync`;
    case "StaleBase":
      return `event ${e.seq} of ${JSON.stringify(e.source)} refused: ${e.reason}; the agent must resync the item`;
    case "ChunkMissing":
      return `event ${e.seq} of ${JSON.stringify(e.source)} names chunk ${e.digest}, which the store lacks and the event does not carry`;
    case "ChunkCorrupt":
      return `event ${e.seq} of ${JSON.stringify(e.source)} carries chunk ${e.digest} whose bytes do not match its digest`;
    case "EventTooLarge":
      return `event ${e.seq} of ${JSON.stringify(e.source)} is ${e.bytes} bytes, over the ${e.limit}-byte limit`;
    case "UnknownSource":
      return `the store has no source ${JSON.stringify(e.source)}`;
    case "UnknownCheckpoint":
      return `source ${JSON.stringify(e.source)} has no checkpoint ${JSON.stringify(e.label)}`;
    case "InvalidChunks":
      return `chunks refused: ${e.reason}`;
    default:
      return absurd(e);
  }
};
