/**
 * View — a projection as a reducer over the event log: an initial state and an `evolve` step.
 * Folding a log through a view gives the projection; folding in two parts gives the same result
 * (`fold(a ++ b) = fold(b, fold(a))`), which is what lets the store update projections per append.
 *
 * @example
 * import * as View from "./View.ts";
 * const count: View.View<number, unknown> = { initialState: 0, evolve: (n) => n + 1 };
 * View.fold(count)([1, 2, 3])   // 3
 *
 * @module
 */

/** A projection: initial state and evolve. @category models */
export interface View<S, E> {
  readonly initialState: S;
  readonly evolve: (state: S, event: E) => S;
}

/** Folds events through a view, from its initial state or from a given one. @category folding */
export const fold = <S, E>(view: View<S, E>) => (events: Iterable<E>, from: S = view.initialState): S => {
  let state = from;
  for (const e of events) state = view.evolve(state, e);
  return state;
};
