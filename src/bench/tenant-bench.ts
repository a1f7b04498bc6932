/**
 * `npm run bench:tenants`: one gateway serving many tenants of every tier at once. It
 * provisions a fleet (by default 800 SHARED, 150 SCHEMA and 50 DATABASE tenants, the last
 * split over two PostgreSQL servers), starts the gateway under test as a child process, and
 * drives a small query round-robin over every tenant, each with its own token, judging every
 * answer against the tenant's own rows. It prints throughput, latency, the gateway's peak
 * RSS and the PostgreSQL connections it held; it asserts nothing about time.
 *
 * Everything it makes is named after a random run tag and removed at the end, also when a
 * step fails or Ctrl-C stops it. Report on standard output, progress on standard error.
 * Exit code 1 when an answer was wrong or an error, 2 for a bad option, 130 when stopped.
 */
import "reflect-metadata";
import { randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { loadConfig } from "../config/index.js";
import { Isolation } from "../generated/prisma/enums.js";
import { createBenchSecrets, type BenchSecrets } from "./bench-gateway.js";
import { BenchOptionsError } from "./bench-options.js";
import { startBenchServer, type BenchServer } from "./bench-server-process.js";
import { startConnectionMonitor, type WatchedServer } from "./connection-monitor.js";
import { clusterRoles, removeRunLeftovers, type CleanupServer } from "./fleet-cleanup.js";
import { provisionFleet, type SeededTenant } from "./fleet-provisioning.js";
import { readProcessCpuMs, readProcessMemory, startMemorySampler } from "./process-usage.js";
import { describeMachine, loadAverage } from "./run-description.js";
import { createScratchDatabase, type ScratchDatabase } from "./scratch-database.js";
import { TENANT_QUERY } from "./tenant-answer.js";
import {
  HelpRequested,
  loadTenantBenchOptions,
  TENANT_BENCH_USAGE,
  type TenantBenchOptions,
} from "./tenant-bench-options.js";
import { planFleet, runNames, type FleetTenant } from "./tenant-fleet.js";
import {
  createFleetClients,
  runPhase,
  type FleetClients,
  type PhaseOptions,
} from "./tenant-load.js";
import { formatTenantReport, type MeasuredPhase, type TenantBenchReport } from "./tenant-report.js";

/** Gateway settings that may be tried from the environment; every gateway of the run gets them. */
const TUNABLES = [
  "DATABASE_POOL_MAX",
  "TENANT_DATABASE_CONNECTIONS",
  "CACHE_TIMEOUT_MS",
  "CACHE_TTL_SECONDS",
];

/** What the steps of one run share. */
interface Run {
  readonly options: TenantBenchOptions;
  readonly signal: AbortSignal;
  readonly tag: string;
  readonly plan: readonly FleetTenant[];
  readonly secrets: BenchSecrets;
  /** The environment of every gateway of the run. */
  readonly env: Record<string, string>;
  /** Where the run's connections are counted. */
  readonly watched: readonly WatchedServer[];
}

function progress(message: string): void {
  process.stderr.write(`bench:tenants: ${message}\n`);
}

function pick(env: NodeJS.ProcessEnv, names: string[]): Record<string, string> {
  return Object.fromEntries(
    names.flatMap((name) => (env[name] ? [[name, env[name] as string]] : [])),
  );
}

/** The environment of every gateway of the run: the child under test and the provisioners. */
function gatewayEnv(
  options: TenantBenchOptions,
  databases: { control: ScratchDatabase; second: ScratchDatabase },
  secrets: BenchSecrets,
  storageRoot: string,
): Record<string, string> {
  const servers = [
    // The control database doubles as the primary server's maintenance database.
    { id: "primary", region: "local", url: databases.control.url },
    { id: "second", region: "eu", url: databases.second.url },
  ];

  return {
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: "0",
    DATABASE_URL: databases.control.url,
    DATABASE_SERVERS: JSON.stringify(servers),
    REDIS_URL: options.redisUrl,
    JWT_SECRET: secrets.jwtSecret,
    ENCRYPTION_KEY: secrets.encryptionKey,
    METRICS_TOKEN: secrets.metricsToken,
    LOG_LEVEL: options.logLevel,
    SEED_DEMO: "false",
    STORAGE_DIR: join(storageRoot, "storage"),
    EXPORT_DIR: join(storageRoot, "exports"),
    // Capacity is measured, not a plan: per-minute tenant budgets would refuse the load.
    RATE_LIMITS: "false",
    ...pick(process.env, TUNABLES),
    // Node's own settings (such as --max-old-space-size) for the gateway under test only.
    ...(process.env.BENCH_GATEWAY_NODE_OPTIONS
      ? { NODE_OPTIONS: process.env.BENCH_GATEWAY_NODE_OPTIONS }
      : {}),
  };
}

/** Runs one phase while counting connections and sampling the gateway's memory. */
async function measurePhase(
  server: BenchServer,
  watched: readonly WatchedServer[],
  fleet: FleetClients,
  options: PhaseOptions,
): Promise<MeasuredPhase> {
  const monitor = await startConnectionMonitor(watched);
  const memory = startMemorySampler(server.pid);
  server.takeStatsPeak();
  const cpuBefore = await readProcessCpuMs(server.pid);
  try {
    const result = await runPhase(fleet, options);
    return {
      result,
      gatewayCpuMs: (await readProcessCpuMs(server.pid)) - cpuBefore,
      connections: await monitor.stop(),
      memory: await memory.stop(),
      holdings: server.takeStatsPeak(),
      heap: server.latestMemory(),
    };
  } finally {
    // Both are safe to stop twice; this only matters when the phase threw.
    await Promise.allSettled([monitor.stop(), memory.stop()]);
  }
}

function describeParameters(run: Run): [string, string][] {
  const { options, plan, tag } = run;
  const config = loadConfig(run.env);
  const onServer = (server: string) => plan.filter((t) => t.server === server).length;
  const tenantDatabases = plan.filter((t) => t.isolation === Isolation.DATABASE).length;
  const nodeOptions = run.env.NODE_OPTIONS;
  // As openDatabase sizes it: a quarter of the tenant pool, at least 2.
  const controlPool = Math.max(2, Math.ceil(config.databasePoolMax / 4));

  return [
    [
      "tenants",
      `${options.shared} SHARED, ${options.schema} SCHEMA (control database), ` +
        `${tenantDatabases} DATABASE (${onServer("primary")} on ${new URL(options.serverUrl).host}, ` +
        `${onServer("second")} on ${new URL(options.secondServerUrl).host}); ids ${tag}-*`,
    ],
    ["concurrency", `${options.concurrency} (--concurrency)`],
    [
      "load",
      `${options.requests} requests (--requests) or ${options.durationSeconds} s ` +
        "(--duration), whichever ends first, after one request per tenant",
    ],
    [
      "gateway pools",
      `tenant ${config.databasePoolMax} (DATABASE_POOL_MAX), control ${controlPool}, tenant ` +
        `databases ${config.tenantDatabaseConnections} together (TENANT_DATABASE_CONNECTIONS)`,
    ],
    [
      "cache",
      `${options.redisUrl}, TTL ${config.cacheTtlSeconds} s, timeout ${config.cacheTimeoutMs} ms`,
    ],
    ["tenant registry", "the gateway's default: records and placements kept 5 s"],
    ["gateway node options", nodeOptions ? `${nodeOptions} (BENCH_GATEWAY_NODE_OPTIONS)` : "none"],
    ["query", TENANT_QUERY],
  ];
}

/** Step 1: the fleet, provisioned in this process, with the connections that took. */
async function provision(run: Run) {
  const monitor = await startConnectionMonitor(run.watched);
  const started = performance.now();
  try {
    const fleet = await provisionFleet(run.plan, {
      env: run.env,
      workers: run.options.provisionConcurrency,
      jwtSecret: run.secrets.jwtSecret,
      logLevel: run.options.logLevel,
      signal: run.signal,
      progress,
    });
    const wallMs = performance.now() - started;
    const connections = await monitor.stop();

    return {
      tenants: fleet.tenants,
      summary: {
        tiers: fleet.tiers,
        wallMs,
        workers: run.options.provisionConcurrency,
        connections,
      },
    };
  } finally {
    // A second stop only answers the peaks again; on failure it ends the monitor's loop.
    await monitor.stop();
  }
}

/** Steps 2 to 4: the gateway under test, every tenant once, then the measured load. */
async function serve(run: Run, server: BenchServer, tenants: readonly SeededTenant[]) {
  const { options, signal } = run;
  const clients = createFleetClients(server.endpoint, tenants, options.concurrency);
  const phases: MeasuredPhase[] = [];
  try {
    // Every tenant once, in plan order: each pays its first lookups and clients.
    progress(`first touch: one request to each of ${tenants.length} tenants`);
    phases.push(
      await measurePhase(server, run.watched, clients, {
        label: "first touch",
        concurrency: options.concurrency,
        requests: tenants.length,
        signal,
      }),
    );
    if (signal.aborted) throw new Error("The first touch was interrupted.");

    progress(`load: ${options.requests} requests or ${options.durationSeconds} s`);
    phases.push(
      await measurePhase(server, run.watched, clients, {
        label: "load",
        concurrency: options.concurrency,
        requests: options.requests,
        durationMs: options.durationSeconds * 1_000,
        signal,
      }),
    );
    if (signal.aborted) throw new Error("The load was interrupted.");

    return phases;
  } finally {
    clients.close();
  }
}

/** The servers of a run, as the cleanup reaches them. */
function runServers(options: TenantBenchOptions) {
  return [
    { id: "primary", url: options.serverUrl },
    { id: "second", url: options.secondServerUrl },
  ] as const satisfies readonly CleanupServer[];
}

async function benchmark(
  options: TenantBenchOptions,
  signal: AbortSignal,
): Promise<TenantBenchReport> {
  const loadAtStart = loadAverage();
  const tag = `tb${randomBytes(3).toString("hex")}`;
  const plan = planFleet(tag, options);
  const names = runNames(tag);
  const servers = runServers(options);
  const rolesBefore = new Map<string, Set<string>>();
  let server: BenchServer | null = null;

  try {
    // What the run will add to each cluster, so the cleanup takes back only that.
    for (const { id, url } of servers) rolesBefore.set(id, await clusterRoles(url));
    progress(`run ${tag}: creating scratch databases on both servers`);
    const storageRoot = await mkdtemp(join(tmpdir(), names.storage));
    const control = await createScratchDatabase(options.serverUrl, names.scratch);
    const second = await createScratchDatabase(options.secondServerUrl, names.scratch);
    const secrets = createBenchSecrets();
    const run: Run = {
      options,
      signal,
      tag,
      plan,
      secrets,
      env: gatewayEnv(options, { control, second }, secrets, storageRoot),
      watched: servers.map((watched) => ({
        ...watched,
        databases: [names.scratch],
        databasePrefix: names.database,
      })),
    };

    const fleet = await provision(run);
    progress("starting the gateway under test");
    server = await startBenchServer(run.env);
    const idle = await readProcessMemory(server.pid);
    const phases = await serve(run, server, fleet.tenants);

    return {
      tenants: fleet.tenants.length,
      machine: describeMachine(control, loadAtStart),
      parameters: describeParameters(run),
      provisioning: fleet.summary,
      idleRssKb: idle.rssKb,
      phases,
    };
  } finally {
    progress("stopping the gateway under test and removing the run's databases and keys");
    await server?.stop();
    const targets = {
      servers,
      names,
      tenantIds: plan.map((tenant) => tenant.id),
      redisUrl: options.redisUrl,
      rolesBefore,
    };
    const problems = await removeRunLeftovers(targets, progress);
    for (const problem of problems) progress(`NOT removed: ${problem}`);
    if (problems.length > 0) progress(`retry with: npm run bench:tenants -- --remove-run ${tag}`);
  }
}

/** `--remove-run`: what an earlier run left behind, found by its tag. */
async function removeRun(options: TenantBenchOptions, tag: string): Promise<number> {
  progress(`removing what run ${tag} left behind`);
  const problems = await removeRunLeftovers(
    {
      servers: runServers(options),
      names: runNames(tag),
      // Its tenants are not known; their cache keys expire within CACHE_TTL_SECONDS.
      tenantIds: [],
      redisUrl: options.redisUrl,
      // Whether it added the cluster roles is not known either; they stay.
      rolesBefore: new Map(),
    },
    progress,
  );
  for (const problem of problems) progress(`NOT removed: ${problem}`);

  return problems.length > 0 ? 1 : 0;
}

async function main(): Promise<number> {
  let options: TenantBenchOptions;
  try {
    options = loadTenantBenchOptions(process.argv.slice(2));
  } catch (error) {
    if (error instanceof HelpRequested) {
      process.stdout.write(TENANT_BENCH_USAGE);
      return 0;
    }
    if (!(error instanceof BenchOptionsError)) throw error;
    progress(error.message);
    return 2;
  }

  if (options.removeRun !== null) return removeRun(options, options.removeRun);

  // Ctrl-C or SIGTERM stops handing out work, and the cleanup still runs; the listeners
  // stay until it is done, so a second Ctrl-C cannot cut the cleanup short. The gateway
  // under test ignores SIGINT and is stopped by the cleanup.
  const abort = new AbortController();
  const stop = () => {
    if (!abort.signal.aborted) progress("stopping: finishing work under way, then cleaning up");
    abort.abort();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  try {
    const report = await benchmark(options, abort.signal);
    process.stdout.write(formatTenantReport(report));
    const failed = report.phases.some(({ result }) => result.errors + result.wrong > 0);

    return failed ? 1 : 0;
  } catch (error) {
    if (!abort.signal.aborted) throw error;
    progress("interrupted; the run's databases, roles, keys and files are removed");
    return 130;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}

/** An error with its causes, each on a line of its own. */
function describeError(error: unknown): string {
  const lines: string[] = [];
  for (let e = error, depth = 0; e !== undefined && depth < 5; depth += 1) {
    lines.push(e instanceof Error ? (e.stack ?? e.message) : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }

  return lines.join("\ncaused by: ");
}

try {
  process.exitCode = await main();
} catch (error) {
  progress(`failed: ${describeError(error)}`);
  process.exitCode = 1;
}
