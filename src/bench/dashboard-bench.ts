/**
 * `npm run bench`: what the dashboard query costs with batched loaders and a cold cache,
 * with a warm cache, and with naive loaders, on a seeded tenant of realistic size.
 *
 * It makes its own database next to DATABASE_URL's and its own tenant on REDIS_URL, runs
 * the gateway in this process, and removes both at the end, also when a step fails. The
 * report goes to standard output, progress to standard error. Exit code 1 when a response
 * was wrong or the run failed.
 */
import "reflect-metadata";
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { issueDevelopmentToken } from "../auth/index.js";
import type { LoaderMode } from "../loaders/index.js";
import {
  createBenchSecrets,
  startBenchGateway,
  type BenchGateway,
  type BenchSecrets,
} from "./bench-gateway.js";
import { BenchOptionsError, loadBenchOptions, type BenchOptions } from "./bench-options.js";
import { checkDashboard, DASHBOARD_QUERY, expectedDashboard } from "./dashboard-query.js";
import { createGraphQLClient } from "./graphql-client.js";
import { drive } from "./load-driver.js";
import { measurePass, readCounters } from "./measure-pass.js";
import { formatReport, type BenchReport, type SingleRequest } from "./report.js";
import { createScratchDatabase, type ScratchDatabase } from "./scratch-database.js";
import { describeMachine, describeParameters, loadAverage } from "./run-description.js";
import { DEFAULT_VOLUME, seedVolume, type SeededVolume } from "./seed-volume.js";

/** Tenant records stay in process for the whole run (see BenchGatewayOptions). */
const REGISTRY_TTL_MS = 60 * 60 * 1_000;

/** The parts of a run every phase needs. */
interface Run {
  options: BenchOptions;
  database: ScratchDatabase;
  secrets: BenchSecrets;
  tenantId: string;
  signal: AbortSignal;
  wrong: BenchReport["wrong"];
}

/** One dashboard request against a gateway; throws with the reason when the answer is wrong. */
type DashboardTask = (index: number) => Promise<void>;

function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

/** Runs `work` on a fresh gateway, then empties the tenant's cache and stops it. */
async function withGateway<T>(
  run: Run,
  loaderMode: LoaderMode,
  work: (bench: BenchGateway) => Promise<T>,
): Promise<T> {
  const bench = await startBenchGateway({
    databaseUrl: run.database.url,
    redisUrl: run.options.redisUrl,
    loaderMode,
    secrets: run.secrets,
    registryTtlMs: REGISTRY_TTL_MS,
    logLevel: run.options.logLevel,
  });
  try {
    return await work(bench);
  } finally {
    await bench.gateway.cache
      .clearTenant(run.tenantId)
      .catch((error: unknown) => progress(`could not clear the tenant's cache keys: ${error}`));
    await bench.gateway.stop();
  }
}

/** A task that sends the dashboard query as `volume`'s caller and checks every answer. */
async function createDashboardTask(run: Run, bench: BenchGateway, volume: SeededVolume) {
  const token = await issueDevelopmentToken(run.secrets.jwtSecret, {
    sub: volume.callerId,
    tid: volume.tenantId,
  });
  const client = createGraphQLClient({
    endpoint: bench.endpoint,
    query: DASHBOARD_QUERY,
    tenantId: volume.tenantId,
    token,
    maxSockets: run.options.concurrency,
  });
  const expected = expectedDashboard(volume);
  const task: DashboardTask = async () => {
    const answer = await client.post();
    const wrong = checkDashboard(answer.status, answer.body, expected);
    if (wrong) throw new Error(wrong);
  };

  return { task, close: () => client.close() };
}

/** Unmeasured requests that let the JIT, the pools and the cache settle. */
async function warmUp(run: Run, task: DashboardTask, phase: string): Promise<void> {
  const result = await drive(task, {
    concurrency: run.options.concurrency,
    requests: run.options.warmup,
    signal: run.signal,
  });
  run.wrong.push(...result.failures.map((failure) => ({ phase, ...failure })));
  if (run.signal.aborted) throw new Error(`Warm-up "${phase}" was interrupted.`);
}

/** One request on its own, with what it cost. */
async function single(
  run: Run,
  bench: BenchGateway,
  task: DashboardTask,
  phase: string,
): Promise<SingleRequest> {
  const before = readCounters(bench.gateway);
  const started = performance.now();
  let right = true;
  try {
    await task(0);
  } catch (error) {
    right = false;
    run.wrong.push({
      phase,
      index: 0,
      message: error instanceof Error ? error.message : String(error),
    });
  }
  const latencyMs = performance.now() - started;
  const after = readCounters(bench.gateway);

  return {
    latencyMs,
    statements: after.statements - before.statements,
    roundTrips: after.roundTrips - before.roundTrips,
    right,
  };
}

async function measureBatched(run: Run, volume: SeededVolume, bench: BenchGateway) {
  const { gateway } = bench;
  const { task, close } = await createDashboardTask(run, bench, volume);
  try {
    progress(`warming up (${run.options.warmup} requests)`);
    await warmUp(run, task, "warm-up, batched");

    progress("single requests, cold then warm");
    await gateway.cache.clearTenant(run.tenantId);
    const cold = await single(run, bench, task, "single request, cold");
    const warm = await single(run, bench, task, "single request, warm");

    progress(`cold pass (${run.options.requests} requests, one at a time)`);
    let clearingRoundTrips = 0;
    const coldPass = await measurePass(gateway, task, {
      label: "batched, cold cache",
      concurrency: 1,
      requests: run.options.requests,
      signal: run.signal,
      prepare: async () => {
        const before = gateway.cache.stats.roundTrips;
        await gateway.cache.clearTenant(run.tenantId);
        clearingRoundTrips += gateway.cache.stats.roundTrips - before;
      },
      harnessRoundTrips: () => clearingRoundTrips,
    });

    progress(`warm pass (${run.options.requests} requests, ${run.options.concurrency} at a time)`);
    const warmPass = await measurePass(gateway, task, {
      label: "batched, warm cache",
      concurrency: run.options.concurrency,
      requests: run.options.requests,
      signal: run.signal,
    });

    return { single: { cold, warm }, cold: coldPass, warm: warmPass };
  } finally {
    close();
  }
}

async function measureNaive(run: Run, volume: SeededVolume, bench: BenchGateway) {
  const { task, close } = await createDashboardTask(run, bench, volume);
  try {
    // One warm-up request: naive requests are slow, and nothing is cached.
    progress("naive gateway: warming up (1 request)");
    await warmUp({ ...run, options: { ...run.options, warmup: 1 } }, task, "warm-up, naive");

    progress("naive gateway: single request");
    const alone = await single(run, bench, task, "single request, naive");

    const requests = run.options.naiveRequests;
    progress(`naive pass (${requests} requests, ${run.options.concurrency} at a time)`);
    const pass = await measurePass(bench.gateway, task, {
      label: "naive loaders",
      concurrency: run.options.concurrency,
      requests,
      signal: run.signal,
    });

    return { single: alone, pass };
  } finally {
    close();
  }
}

async function benchmark(options: BenchOptions, signal: AbortSignal): Promise<BenchReport> {
  const loadAtStart = loadAverage();
  progress(`creating a database next to ${new URL(options.serverUrl).host}`);
  const database = await createScratchDatabase(options.serverUrl);
  const run: Run = {
    options,
    database,
    secrets: createBenchSecrets(),
    tenantId: `bench-${randomBytes(4).toString("hex")}`,
    signal,
    wrong: [],
  };

  try {
    const batched = await withGateway(run, "batched", async (bench) => {
      progress(`seeding tenant ${run.tenantId} in ${database.name}`);
      const volume = await seedVolume(bench.gateway.lifecycle, run.tenantId, DEFAULT_VOLUME);
      const parameters = describeParameters({
        options: run.options,
        database,
        config: bench.config,
        volume,
        spec: DEFAULT_VOLUME,
      });

      return { volume, parameters, ...(await measureBatched(run, volume, bench)) };
    });
    const naive = await withGateway(run, "naive", (bench) =>
      measureNaive(run, batched.volume, bench),
    );

    return {
      machine: describeMachine(database, loadAtStart),
      parameters: batched.parameters,
      single: { ...batched.single, naive: naive.single },
      cold: batched.cold,
      warm: batched.warm,
      naive: naive.pass,
      wrong: [
        ...run.wrong,
        ...[batched.cold, batched.warm, naive.pass].flatMap((pass) =>
          pass.failures.map((failure) => ({ phase: pass.label, ...failure })),
        ),
      ],
    };
  } finally {
    progress(`dropping ${database.name}`);
    await database.drop();
  }
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = loadBenchOptions();
  } catch (error) {
    if (!(error instanceof BenchOptionsError)) throw error;
    progress(error.message);
    return 2;
  }

  // Ctrl-C or SIGTERM stops handing out requests, and the cleanup still runs. The listener
  // stays for the whole run: Apollo Server also listens outside NODE_ENV=test, stops the
  // gateway, then raises the signal again, which would otherwise end the process before
  // the database is dropped.
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  try {
    const report = await benchmark(options, abort.signal);
    process.stdout.write(formatReport(report));

    return report.wrong.length > 0 ? 1 : 0;
  } catch (error) {
    if (!abort.signal.aborted) throw error;
    progress("interrupted; the database and the tenant's cache keys are removed");
    return 130;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  progress(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
}
