import http from "node:http";
import { performance } from "node:perf_hooks";
import type { Isolation } from "../generated/prisma/enums.js";
import type { SeededTenant } from "./fleet-provisioning.js";
import { createGraphQLClient, type GraphQLClient } from "./graphql-client.js";
import { drive } from "./load-driver.js";
import { judgeAnswer, TENANT_QUERY, type Verdict } from "./tenant-answer.js";

/** Latencies and outcomes of some requests of a phase. */
export interface Outcomes {
  /** Latency of every finished request in ms, ascending. */
  readonly latenciesMs: number[];
  readonly errors: number;
  /** Answers whose data was not the tenant's own. */
  readonly wrong: number;
}

/** One phase of requests, round-robin over the fleet. */
export interface PhaseResult extends Outcomes {
  readonly label: string;
  readonly tenants: number;
  readonly elapsedMs: number;
  /** Why the phase ended. */
  readonly endedBy: "requests" | "duration" | "interrupt";
  /** The same figures per tier. */
  readonly byTier: ReadonlyMap<Isolation, Outcomes>;
  /** Every error and wrong answer, with the request's position. */
  readonly failures: { phase: string; index: number; message: string }[];
}

/** A client per tenant over one set of kept-alive connections. */
export interface FleetClients {
  readonly tenants: readonly SeededTenant[];
  readonly clients: readonly GraphQLClient[];
  close(): void;
}

/** Clients that post the benchmark query as each tenant's caller. */
export function createFleetClients(
  endpoint: string,
  tenants: readonly SeededTenant[],
  concurrency: number,
): FleetClients {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const clients = tenants.map((tenant) =>
    createGraphQLClient({
      endpoint,
      query: TENANT_QUERY,
      tenantId: tenant.id,
      token: tenant.token,
      maxSockets: concurrency,
      agent,
      // Far above any latency seen, so a hung request fails instead of holding the run.
      timeoutMs: 60_000,
    }),
  );

  return { tenants, clients, close: () => agent.destroy() };
}

export interface PhaseOptions {
  readonly label: string;
  readonly concurrency: number;
  readonly requests: number;
  /** Longest time the phase may take (ms); unbounded without it. */
  readonly durationMs?: number;
  /** Once aborted, no new request starts; those in flight finish. */
  readonly signal: AbortSignal;
}

function emptyOutcomes() {
  return { latenciesMs: [] as number[], errors: 0, wrong: 0 };
}

function record(outcomes: ReturnType<typeof emptyOutcomes>, latencyMs: number, verdict: Verdict) {
  outcomes.latenciesMs.push(latencyMs);
  if (verdict.kind === "error") outcomes.errors += 1;
  if (verdict.kind === "wrong") outcomes.wrong += 1;
}

/**
 * Sends `options.requests` requests (or fewer, when the duration or an abort ends the phase
 * first), request `n` going to tenant `n mod tenants` with that tenant's own token, and
 * judges every answer against the tenant's seeded rows.
 */
export async function runPhase(fleet: FleetClients, options: PhaseOptions): Promise<PhaseResult> {
  const all = emptyOutcomes();
  const byTier = new Map<Isolation, ReturnType<typeof emptyOutcomes>>();
  const failures: PhaseResult["failures"] = [];
  const deadline =
    options.durationMs === undefined ? null : AbortSignal.timeout(options.durationMs);
  const signal = deadline ? AbortSignal.any([options.signal, deadline]) : options.signal;

  const task = async (index: number) => {
    const slot = index % fleet.tenants.length;
    const tenant = fleet.tenants[slot] as SeededTenant;
    const client = fleet.clients[slot] as GraphQLClient;
    const started = performance.now();
    let verdict: Verdict;
    try {
      const answer = await client.post();
      verdict = judgeAnswer(answer.status, answer.body, tenant);
    } catch (error) {
      verdict = { kind: "error", message: error instanceof Error ? error.message : String(error) };
    }
    const latencyMs = performance.now() - started;

    const tier = byTier.get(tenant.isolation) ?? emptyOutcomes();
    byTier.set(tenant.isolation, tier);
    record(all, latencyMs, verdict);
    record(tier, latencyMs, verdict);
    if (verdict.kind !== "right") {
      failures.push({
        phase: options.label,
        index,
        message: `${verdict.kind === "wrong" ? "WRONG TENANT" : "error"} (${tenant.id}): ${verdict.message}`,
      });
    }
  };

  const started = performance.now();
  const result = await drive(task, {
    concurrency: options.concurrency,
    requests: options.requests,
    signal,
  });
  const elapsedMs = performance.now() - started;
  const sort = (outcomes: ReturnType<typeof emptyOutcomes>) => {
    outcomes.latenciesMs.sort((a, b) => a - b);
    return outcomes;
  };

  return {
    label: options.label,
    tenants: Math.min(result.completed, fleet.tenants.length),
    ...sort(all),
    elapsedMs,
    endedBy: options.signal.aborted
      ? "interrupt"
      : result.completed < options.requests
        ? "duration"
        : "requests",
    byTier: new Map([...byTier].map(([tier, outcomes]) => [tier, sort(outcomes)])),
    failures,
  };
}
