/**
 * Absurd — the exhaustiveness check for `switch` statements over tagged unions.
 *
 * @example
 * switch (e._tag) { case "A": ...; case "B": ...; default: return absurd(e); }
 *
 * @module
 */

/** Unreachable when every case of a union is handled; throws (a programmer error) otherwise. */
export const absurd = (x: never): never => {
  throw new Error(`unhandled case ${JSON.stringify(x)}`);
};
