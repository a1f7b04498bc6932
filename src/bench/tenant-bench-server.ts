/**
 * The gateway under test of `npm run bench:tenants`, started by the benchmark as a child
 * process so that its memory and connections are its own. It reads the configuration from
 * its environment, listens on a free loopback port, and reports over the IPC channel (see
 * BenchServerMessage). It stops when the benchmark disconnects or sends SIGTERM; SIGINT is
 * left to the benchmark, which stops it after the run's cleanup has begun.
 */
import "reflect-metadata";
import { pino } from "pino";
import { loadConfig } from "../config/index.js";
import { createLogger } from "../logging/index.js";
import { createGateway, type Gateway } from "../server/gateway.js";
import type { BenchServerMessage } from "./bench-server-messages.js";

/** How often the database tier's holdings are reported (ms). */
const STATS_INTERVAL_MS = 100;

function send(message: BenchServerMessage): void {
  // A benchmark that has gone away cannot be told anything; the disconnect stops us.
  if (process.connected) process.send?.(message);
}

let gateway: Gateway | null = null;
let stopping: Promise<void> | null = null;

function stop(): Promise<void> {
  stopping ??= (async () => {
    await gateway?.stop();
    process.disconnect?.();
    process.exit();
  })();

  return stopping;
}

// Ctrl-C reaches the whole process group; the benchmark decides when this gateway stops.
process.on("SIGINT", () => {});
process.on("SIGTERM", () => void stop());
process.on("disconnect", () => void stop());

try {
  const config = loadConfig(process.env);
  gateway = await createGateway({
    config,
    logger: createLogger({ level: config.logLevel, destination: pino.destination(2) }),
  });
  const base = new URL(await gateway.listen(0));
  // listen() answers with "localhost"; the benchmark names the loopback address itself.
  base.hostname = "127.0.0.1";
  base.pathname = "/graphql";
  const running = gateway;
  setInterval(() => {
    const { heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
    send({
      type: "stats",
      stats: running.database.stats(),
      memory: { heapTotal, heapUsed, external, arrayBuffers },
    });
  }, STATS_INTERVAL_MS);
  send({ type: "ready", endpoint: base.toString() });
} catch (error) {
  send({ type: "failed", message: error instanceof Error ? error.message : String(error) });
  process.exitCode = 1;
  await stop();
}
