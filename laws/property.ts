/**
 * Runs a fast-check property with the project's defaults: at least 100 runs (TIDEMARK_LAW_RUNS
 * raises it), and on failure an error that names the seed and path to replay it
 * (TIDEMARK_LAW_SEED / TIDEMARK_LAW_PATH).
 *
 * @module
 */
import fc from "fast-check";
import process from "node:process";

const env = (name: string): string | undefined => {
  try {
    return process.env[name];
  } catch {
    return undefined;
  }
};

/** Checks a property; throws with the replay instructions when it fails. */
export const check = <Ts extends [unknown, ...unknown[]]>(
  property: fc.IProperty<Ts> | fc.IAsyncProperty<Ts>,
  runs = 100,
): void | Promise<void> => {
  const seed = env("TIDEMARK_LAW_SEED");
  const path = env("TIDEMARK_LAW_PATH");
  const params: fc.Parameters<Ts> = {
    numRuns: Math.max(runs, Number(env("TIDEMARK_LAW_RUNS") ?? 0)),
    // A law may take at most two minutes, shrinking included, so a failure can never hang the suite.
    interruptAfterTimeLimit: 120_000,
    markInterruptAsFailure: true,
    ...(seed === undefined ? {} : { seed: Number(seed) }),
    ...(path === undefined ? {} : { path }),
  };
  const report = (details: fc.RunDetails<Ts>): void => {
    if (!details.failed) return;
    throw new Error(
      `${fc.defaultReportMessage(details) ?? "property failed"}\n` +
        `replay with TIDEMARK_LAW_SEED=${details.seed} TIDEMARK_LAW_PATH=${details.counterexamplePath ?? ""}`,
    );
  };
  const out = fc.check(property as fc.IRawProperty<Ts>, params);
  return out instanceof Promise ? out.then(report) : report(out);
};
