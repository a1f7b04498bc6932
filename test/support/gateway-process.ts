import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../cache/redis-server.js";
import { TEST_REDIS_URL, TEST_SECOND_DATABASE_URL } from "./env.js";
import { GATEWAY_MAIN } from "./gateway-build.js";
import {
  postGraphQL,
  TEST_JWT_SECRET,
  TEST_METRICS_TOKEN,
  type GraphQLResponse,
  type RequestOptions,
} from "./gateway.js";

/**
 * A gateway running as a real OS process, for tests of what several
 * gateway processes behind one load balancer share: Redis counters, cache
 * invalidation, locks. It runs the compiled `main.js` (built once per test
 * run by globalSetup, see gateway-build.ts) exactly as `npm start` would,
 * configured only by the environment given here.
 *
 * Typical use, two processes on one database:
 *
 * ```ts
 * const db = await createTestDatabase("my-test");
 * const first = await startGatewayProcess({ databaseUrl: db.url }); // migrates
 * const second = await startGatewayProcess({ databaseUrl: db.url });
 * const res = await first.request(PROVISION, { token: adminToken, variables });
 * // … requests to both …
 * await Promise.all([first.stop(), second.stop()]);
 * await db.drop();
 * ```
 *
 * Tokens are signed with {@link TEST_JWT_SECRET}, as for the in-process test
 * gateway, and the master key is that gateway's too: an in-process gateway
 * over the same database (seedTenantFixture on its lifecycle) reads what
 * the processes wrote. DATABASE-tier tenants made through a process get
 * databases of their own, which the test must remove.
 */
export interface GatewayProcess {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly pid: number;
  /** Settles when the process exits, with its exit code or the signal that ended it. */
  readonly exit: Promise<ProcessExit>;
  /** Sends one GraphQL operation to `/graphql`; the answer keeps its headers. */
  request<T = Record<string, unknown>>(
    query: string,
    options?: RequestOptions,
  ): Promise<GraphQLResponse<T>>;
  /** The last lines the process wrote (its pino JSON logs and welcome text). */
  output(): string;
  /** Sends SIGTERM and waits for the exit; kills it if it has not gone in 10 s. Safe to repeat. */
  stop(): Promise<void>;
}

/** How a gateway process ended: `code` when it exited, `signal` when a signal killed it. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface GatewayProcessOptions {
  /**
   * The control database, e.g. from createTestDatabase. The first process
   * on a fresh database migrates it: start the others after it is ready.
   */
  databaseUrl: string;
  /** Redis the processes share (default: the test Redis); null for none (in-memory). */
  redisUrl?: string | null;
  /** More variables, laid over the defaults (e.g. `RATE_LIMIT_TIMEOUT_MS`). */
  env?: Record<string, string>;
}

/** Longest wait for `/readyz` to answer 200: the process migrates and builds its schema first. */
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;
/** How many of the process's last output lines are kept for error messages. */
const KEPT_LINES = 200;

/** Every process started from this test file, killed if the file's process exits first. */
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

function keepLines(child: ChildProcess): () => string {
  const lines: string[] = [];
  const take = (chunk: Buffer) => {
    lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
    if (lines.length > KEPT_LINES) lines.splice(0, lines.length - KEPT_LINES);
  };
  // Read both pipes to the end: a full pipe would stall the process.
  child.stdout?.on("data", take);
  child.stderr?.on("data", take);

  return () => lines.join("\n");
}

async function waitUntilReady(url: string, child: ChildProcess, output: () => string) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`The gateway process exited at start:\n${output()}`);
    }
    const status = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) })
      .then((response) => response.status)
      .catch(() => 0);
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  throw new Error(`The gateway process was not ready within ${READY_TIMEOUT_MS} ms:\n${output()}`);
}

/**
 * Starts `node main.js` on a free loopback port with an explicit
 * environment (nothing of this process's leaks in) and resolves once its
 * `/readyz` answers 200.
 */
export async function startGatewayProcess(options: GatewayProcessOptions): Promise<GatewayProcess> {
  const port = await freePort();
  const files = await mkdtemp(join(tmpdir(), "ogc-process-"));
  const redisUrl = options.redisUrl === undefined ? TEST_REDIS_URL : options.redisUrl;
  const env: Record<string, string> = {
    NODE_ENV: "test",
    HOST: "127.0.0.1",
    PORT: String(port),
    DATABASE_URL: options.databaseUrl,
    DATABASE_SERVERS: JSON.stringify([
      { id: "primary", region: "local", url: options.databaseUrl },
      { id: "second", region: "eu", url: TEST_SECOND_DATABASE_URL },
    ]),
    ...(redisUrl === null ? {} : { REDIS_URL: redisUrl }),
    JWT_SECRET: TEST_JWT_SECRET,
    ENCRYPTION_KEY: Buffer.alloc(32, 1).toString("base64"),
    SEED_DEMO: "false",
    STORAGE_DIR: join(files, "storage"),
    EXPORT_DIR: join(files, "exports"),
    TENANT_LOG_DIR: join(files, "tenant-logs"),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "warn",
    ...options.env,
  };
  // Production refuses to start without a metrics token.
  if (env.NODE_ENV === "production" && env.METRICS_TOKEN === undefined) {
    env.METRICS_TOKEN = TEST_METRICS_TOKEN;
  }
  const child = spawn(process.execPath, [GATEWAY_MAIN], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  // A failed spawn or kill is an 'error' event; the start check or the exit reports it.
  child.on("error", () => {});
  const exited = new Promise<ProcessExit>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  void exited.then(() => running.delete(child));
  const output = keepLines(child);
  const url = `http://127.0.0.1:${port}`;

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      await rm(files, { recursive: true, force: true });
    })();

    return stopping;
  };

  try {
    await waitUntilReady(url, child, output);
    if (child.pid === undefined) throw new Error("The gateway process has no process id.");

    return {
      url,
      pid: child.pid,
      exit: exited,
      request: <T>(query: string, request: RequestOptions = {}) =>
        postGraphQL<T>(url, query, request),
      output,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
