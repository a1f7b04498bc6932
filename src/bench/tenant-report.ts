import type { LocationClientStats } from "../data/placement/location-clients.js";
import type { ServerMemory } from "./bench-server-messages.js";
import { percentile } from "./load-driver.js";
import type { ConnectionPeaks } from "./connection-monitor.js";
import type { TierProvisioning } from "./fleet-provisioning.js";
import { megabytes, type MemorySamples } from "./process-usage.js";
import { formatTable, formatWrong } from "./report.js";
import { FLEET_TIERS } from "./tenant-fleet.js";
import type { Outcomes, PhaseResult } from "./tenant-load.js";

/** Peak RSS of the gateway under test must stay under this (MB), connections under the other. */
export const TARGETS = { rssMb: 600, connections: 40 } as const;

/** A phase of requests with what the gateway under test held during it. */
export interface MeasuredPhase {
  readonly result: PhaseResult;
  /** CPU time the gateway under test used during the phase (ms). */
  readonly gatewayCpuMs: number;
  readonly connections: ConnectionPeaks;
  readonly memory: MemorySamples;
  readonly holdings: LocationClientStats;
  /** The gateway's own account of its memory at the end of the phase. */
  readonly heap: ServerMemory | null;
}

/** Everything `npm run bench:tenants` prints. */
export interface TenantBenchReport {
  /** Tenants provisioned. */
  readonly tenants: number;
  readonly machine: [label: string, value: string][];
  readonly parameters: [label: string, value: string][];
  readonly provisioning: {
    readonly tiers: readonly TierProvisioning[];
    readonly wallMs: number;
    readonly workers: number;
    readonly connections: ConnectionPeaks;
  };
  /** VmRSS of the gateway under test once it listened, before any request. */
  readonly idleRssKb: number;
  readonly phases: readonly MeasuredPhase[];
}

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "n/a";
}

function labelled(pairs: [string, string][]): string {
  const width = Math.max(...pairs.map(([label]) => label.length));

  return pairs.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`).join("\n");
}

function outcomeCells(outcomes: Outcomes): string[] {
  return [
    String(outcomes.latenciesMs.length),
    fixed(percentile(outcomes.latenciesMs, 50), 1),
    fixed(percentile(outcomes.latenciesMs, 99), 1),
    String(outcomes.errors),
    String(outcomes.wrong),
  ];
}

function phaseRows({ result, gatewayCpuMs }: MeasuredPhase): string[][] {
  const count = result.latenciesMs.length;
  const rate = count / (result.elapsedMs / 1_000);
  const [requests = "", ...rest] = outcomeCells(result);
  const cpu = fixed(gatewayCpuMs / count, 1);
  const rows = [[result.label, String(result.tenants), requests, fixed(rate, 1), cpu, ...rest]];
  for (const tier of FLEET_TIERS) {
    const outcomes = result.byTier.get(tier);
    if (!outcomes) continue;
    const [tierRequests = "", ...others] = outcomeCells(outcomes);
    rows.push([`  ${tier} tenants`, "", tierRequests, "", "", ...others]);
  }

  return rows;
}

function formatRequests(phases: readonly MeasuredPhase[]): string {
  const table = formatTable(
    [
      "phase",
      "tenants",
      "requests",
      "req/s",
      "CPU ms/req",
      "p50 ms",
      "p99 ms",
      "errors",
      "wrong tenant",
    ],
    phases.flatMap(phaseRows),
  );
  const ends = phases.map(({ result }) => `${result.label}: ended by ${result.endedBy}`);

  return [
    `Requests (round-robin over every tenant, each with its own token)\n${table}`,
    `  ${ends.join("; ")}.`,
    "  CPU ms/req: the gateway process's CPU time over the phase, per request; unlike req/s",
    "  it does not depend on what else the machine's cores run.",
    "  wrong tenant: an answer whose tenant, caller, challenge or score is not the one",
    "  seeded for the tenant it was sent for. errors: HTTP or GraphQL errors.",
  ].join("\n");
}

function formatProvisioning(report: TenantBenchReport): string {
  const { provisioning } = report;
  const rows = provisioning.tiers.map((tier) => [
    tier.isolation,
    String(tier.tenants),
    fixed(tier.wallMs / 1_000, 1),
    fixed(tier.provisionMs, 0),
    fixed(tier.seedMs, 0),
    fixed(tier.tenants / (tier.wallMs / 1_000), 1),
  ]);
  const table = formatTable(
    ["tier", "tenants", "wall s", "provision ms/tenant", "seed ms/tenant", "tenants/s"],
    rows,
  );

  return [
    `Provisioning (${provisioning.workers} at once, in the benchmark process; ` +
      `${fixed(provisioning.wallMs / 1_000, 1)} s in all)\n${table}`,
    "  provision: one provisionTenant call (location, migrations, roles, first admin).",
    "  seed: a reader, a challenge and a submission, in one transaction bound to the tenant.",
  ].join("\n");
}

function serverCells(peaks: ConnectionPeaks, pick: "gateway" | "withAdmin"): string[] {
  return ["primary", "second"].map((id) => String(peaks.byServer[id]?.[pick] ?? 0));
}

function formatConnections(report: TenantBenchReport): string {
  const row = (label: string, peaks: ConnectionPeaks, pick: "gateway" | "withAdmin") => [
    label,
    String(peaks[pick]),
    ...serverCells(peaks, pick),
    String(peaks.everyGateway),
    String(peaks.samples),
  ];
  const table = formatTable(
    ["phase", "peak, both servers", "5432", "5433", "all gateways on servers", "samples"],
    [
      row("provisioning, with admin sessions", report.provisioning.connections, "withAdmin"),
      ...report.phases.map((phase) => row(phase.result.label, phase.connections, "gateway")),
    ],
  );

  return [
    `PostgreSQL connections (pg_stat_activity every 100 ms)\n${table}`,
    "  Counted: application_name 'newfinity-gateway' (and, while provisioning,",
    "  'newfinity-gateway-admin') on this run's databases. The load phases count only the",
    "  gateway under test; provisioning counts the benchmark's own provisioning gateways.",
    "  all gateways on servers: every 'newfinity-gateway' connection, other runs included.",
  ].join("\n");
}

function formatGateway(report: TenantBenchReport): string {
  const bytes = (value: number | undefined) => fixed((value ?? Number.NaN) / 1e6, 0);
  const rows = report.phases.map(({ result, memory, holdings, heap }) => [
    result.label,
    fixed(megabytes(memory.peakRssKb), 0),
    fixed(megabytes(memory.last.rssKb), 0),
    fixed(megabytes(memory.last.hwmKb), 0),
    bytes(heap?.heapTotal),
    bytes(heap?.heapUsed),
    bytes(heap?.external),
    String(holdings.databasePools),
    String(holdings.databaseConnections),
  ]);
  const table = formatTable(
    [
      "phase",
      "VmRSS peak MB",
      "VmRSS end MB",
      "VmHWM MB",
      "heap MB",
      "heap used MB",
      "external MB",
      "database pools",
      "database connections",
    ],
    rows,
  );

  return [
    `Gateway under test (a child process; idle after start: ` +
      `${fixed(megabytes(report.idleRssKb), 0)} MB VmRSS)\n${table}`,
    "  VmRSS sampled every 100 ms; VmHWM is the process's peak since it started. heap (V8's",
    "  committed heap), heap used (garbage included) and external: process.memoryUsage() at",
    "  the end of the phase. The last three columns: peaks of gateway.database.stats().",
  ].join("\n");
}

function verdict(met: boolean): string {
  return met ? "met" : "MISSED";
}

function formatTargets(report: TenantBenchReport): string {
  const phases = report.phases;
  const hwmKb = Math.max(0, ...phases.map((phase) => phase.memory.last.hwmKb));
  const connections = Math.max(0, ...phases.map((phase) => phase.connections.gateway));
  const errors = phases.reduce((sum, { result }) => sum + result.errors, 0);
  const wrong = phases.reduce((sum, { result }) => sum + result.wrong, 0);
  const rssMb = megabytes(hwmKb);

  return `Targets\n${labelled([
    [
      "every answer its tenant's",
      `${errors} errors, ${wrong} wrong-tenant answers: ${verdict(errors + wrong === 0)}`,
    ],
    [
      `peak RSS < ${TARGETS.rssMb} MB`,
      `${fixed(rssMb, 0)} MB (VmHWM): ${verdict(rssMb < TARGETS.rssMb)}`,
    ],
    [
      `peak connections < ${TARGETS.connections}`,
      `${connections} under load: ${verdict(connections < TARGETS.connections)}`,
    ],
  ])}`;
}

/** The report as text, ready for standard output. */
export function formatTenantReport(report: TenantBenchReport): string {
  const sections = [
    `NewFinity Gateway: scale benchmark (${report.tenants} tenants)`,
    `Machine\n${labelled(report.machine)}`,
    `Parameters\n${labelled(report.parameters)}`,
    formatProvisioning(report),
    formatRequests(report.phases),
    formatGateway(report),
    formatConnections(report),
    formatTargets(report),
    formatWrong(report.phases.flatMap((phase) => phase.result.failures)),
  ];

  return `${sections.join("\n\n")}\n`;
}
