/**
 * SpoolLock — one agent per spool. The lock is a file created exclusively, naming the holder's pid and,
 * where the system tells it (Linux `/proc`), the holder's start time. A lock is stale, and taken over,
 * when its holder is gone: no such process, a process killed but not yet reaped by its parent (a
 * zombie: restarting an agent right after a SIGKILL must not be refused), or another process that
 * reuses the pid (its start time differs). A lock naming this process's own pid is stale too (the
 * agent restarted as the same pid, as pid 1 of a container does).
 *
 * @example
 * const unlock = SpoolLock.take("/var/lib/tidemark/laptop");   // throws when another agent runs
 * // … later
 * await unlock();
 *
 * @module
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";

/** A process as `/proc/PID/stat` shows it: its state letter and its start time (clock ticks since boot). */
interface ProcessInfo {
  readonly state: string;
  readonly start: string;
}

/** What `/proc` says of a process, or undefined where there is no `/proc` or no such process. */
const infoOf = (pid: number): ProcessInfo | undefined => {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // After the command name in parentheses (which may hold spaces): field 3 (state) … field 22 (start time).
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return fields.length > 19 ? { state: fields[0]!, start: fields[19]! } : undefined;
  } catch {
    return undefined;
  }
};

/** True when a signal could reach the process (one of another user's counts: it exists). */
const exists = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
};

/** The lock's text for this process: "pid" or "pid start". */
const ownText = (): string => {
  const start = infoOf(process.pid)?.start;
  return start === undefined ? String(process.pid) : `${process.pid} ${start}`;
};

/**
 * The pid the lock's text names, when that is a live process other than this one; else undefined
 * (the lock is stale).
 *
 * @example
 * liveHolder(`${child.pid}`)        // child.pid while the child runs, undefined once it is killed (reaped or not)
 * liveHolder(`${process.pid} 1`)    // undefined: this process
 */
export const liveHolder = (text: string): number | undefined => {
  const [pidText, start] = text.trim().split(" ");
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || !exists(pid)) return undefined;
  const info = infoOf(pid);
  if (info === undefined) return pid;
  if (info.state === "Z" || info.state === "X") return undefined;
  return start === undefined || start === info.start ? pid : undefined;
};

/**
 * Takes the lock of the spool in `dir`, replacing a stale one, and returns its release. Throws an
 * `Error` saying why when a live agent holds it or the lock file cannot be written (a full or
 * read-only disk, no permission).
 *
 * @category locking
 */
export const take = (dir: string): (() => Promise<void>) => {
  const file = join(dir, "lock");
  let refused: Error | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, ownText(), { flag: "wx" });
      return () => rm(file, { force: true });
    } catch (e) {
      refused = e as Error;
      const text = (() => {
        try {
          return readFileSync(file, "utf8");
        } catch {
          return "";
        }
      })();
      const holder = liveHolder(text);
      if (holder !== undefined) throw new Error(`the spool ${dir} is in use by another agent (pid ${holder})`);
      rmSync(file, { force: true });
    }
  }
  throw new Error(`cannot lock the spool ${dir}: ${refused?.message ?? "unknown reason"}`);
};
