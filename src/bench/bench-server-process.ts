import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { LocationClientStats } from "../data/placement/location-clients.js";
import type { BenchServerMessage, ServerMemory } from "./bench-server-messages.js";

/** The gateway under test, running as a child process. */
export interface BenchServer {
  readonly pid: number;
  /** `http://127.0.0.1:<port>/graphql`. */
  readonly endpoint: string;
  /** The highest database-tier holdings reported since the last call; starts afresh. */
  takeStatsPeak(): LocationClientStats;
  /** Its heap and external memory as last reported; null before the first report. */
  latestMemory(): ServerMemory | null;
  /** Asks it to stop (SIGTERM), and kills it when it has not within 15 s. Safe to repeat. */
  stop(): Promise<void>;
}

/** Longest wait for the gateway to listen: it migrates and builds its schema first. */
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

const ENTRY = fileURLToPath(new URL("./tenant-bench-server.js", import.meta.url));

function emptyStats(): LocationClientStats {
  return { databasePools: 0, databaseConnections: 0 };
}

function maxStats(a: LocationClientStats, b: LocationClientStats): LocationClientStats {
  return {
    databasePools: Math.max(a.databasePools, b.databasePools),
    databaseConnections: Math.max(a.databaseConnections, b.databaseConnections),
  };
}

function waitForReady(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      done();
      reject(new Error(`The gateway under test did not listen within ${START_TIMEOUT_MS} ms.`));
    }, START_TIMEOUT_MS);
    const onMessage = (message: BenchServerMessage) => {
      if (message.type === "ready") {
        done();
        resolve(message.endpoint);
      } else if (message.type === "failed") {
        done();
        reject(new Error(`The gateway under test could not start: ${message.message}`));
      }
    };
    const onExit = (code: number | null, signal: string | null) => {
      done();
      reject(new Error(`The gateway under test exited (${signal ?? `code ${code}`}) at start.`));
    };
    const onError = (error: Error) => {
      done();
      reject(new Error(`The gateway under test could not be started: ${error.message}`));
    };
    const done = () => {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
      child.off("error", onError);
    };
    child.on("message", onMessage);
    child.on("exit", onExit);
    child.on("error", onError);
  });
}

/**
 * Starts tenant-bench-server.js with exactly `env` (nothing of this process's environment
 * leaks in) and resolves once it listens. Its standard error is ours, for its logs.
 */
export async function startBenchServer(
  env: Readonly<Record<string, string>>,
): Promise<BenchServer> {
  const child = fork(ENTRY, [], {
    env: { ...env },
    execArgv: [],
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  // A failed kill or send is an 'error' event; the exit or the start timeout reports it.
  child.on("error", () => {});
  let peak = emptyStats();
  let memory: ServerMemory | null = null;
  child.on("message", (message: BenchServerMessage) => {
    if (message.type !== "stats") return;
    peak = maxStats(peak, message.stats);
    memory = message.memory;
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    })();

    return stopping;
  };

  try {
    const endpoint = await waitForReady(child);
    if (child.pid === undefined) throw new Error("The gateway under test has no process id.");

    return {
      pid: child.pid,
      endpoint,
      takeStatsPeak: () => {
        const taken = peak;
        peak = emptyStats();
        return taken;
      },
      latestMemory: () => memory,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
