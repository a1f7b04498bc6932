import { overflowFingerprint, overflowShape, type ErrorShape } from "./error-fingerprint.js";
import { addHistogram, bucketOf, emptyHistogram } from "./latency-buckets.js";
import { HEALTH_SAMPLE_MS, periodOf, TRAFFIC_WINDOW_MS, windowStart } from "./time-windows.js";

/** One tenant's requests in one five-minute window. */
export interface TrafficCell {
  readonly tenantId: string;
  readonly windowStart: Date;
  requests: number;
  /** Requests whose answer held any error. */
  errors: number;
  /** Requests that met a server-side failure (the platform's fault, not the client's). */
  failures: number;
  durationMsSum: number;
  latencyCounts: number[];
}

/** One tenant's billable counts in one month: billable requests only (see {@link RequestRecord}). */
export interface UsageCell {
  readonly tenantId: string;
  readonly period: string;
  requests: number;
  errors: number;
  queryCost: number;
}

/** One error cluster as this process saw it since the last flush. */
export interface ClusterCell {
  readonly fingerprint: string;
  readonly shape: ErrorShape;
  count: number;
  firstSeen: Date;
  lastSeen: Date;
  /** Newest first, at most {@link SAMPLE_REQUEST_IDS}. */
  sampleRequestIds: string[];
}

/** One tenant's share of a cluster. */
export interface ClusterTenantCell {
  readonly fingerprint: string;
  readonly tenantId: string;
  count: number;
  firstSeen: Date;
  lastSeen: Date;
  lastRequestId: string;
}

/** Probes of one tenant in one minute. */
export interface HealthCell {
  readonly tenantId: string;
  readonly minute: Date;
  probes: number;
  failures: number;
}

/** Everything taken from the buffer for one flush. */
export interface TelemetryBatch {
  readonly traffic: TrafficCell[];
  readonly usage: UsageCell[];
  readonly clusters: ClusterCell[];
  readonly clusterTenants: ClusterTenantCell[];
  readonly health: HealthCell[];
}

/** Request ids kept per cluster, newest first. */
export const SAMPLE_REQUEST_IDS = 5;

/**
 * Cells kept per kind while flushes fail. Past it, new keys are dropped
 * (and counted) rather than let a long database outage grow memory without
 * end; counts for keys already held keep adding up.
 */
export const MAX_CELLS_PER_KIND = 20_000;

/**
 * New fingerprints one tenant (or all requests that named none) may add
 * in one flush window. Past it, an error whose fingerprint this process
 * has not met yet is counted in its tenant's overflow cluster for its code,
 * so a client that makes up errors cannot fill the cluster table.
 */
export const MAX_NEW_CLUSTERS_PER_WINDOW = 20;

/**
 * Fingerprints remembered as met, so that errors met before never count as
 * new; past this many the memory starts over.
 */
export const MAX_KNOWN_FINGERPRINTS = 10_000;

export interface RequestRecord {
  readonly tenantId: string;
  readonly at: Date;
  readonly durationMs: number;
  /** Its answer held an error. */
  readonly failed: boolean;
  /** Its answer held a server-side failure (INTERNAL_SERVER_ERROR). */
  readonly serverFailed: boolean;
  /**
   * It counts towards the bill: its operation ran and a signed-in user of
   * the tenant made it. Only billable requests reach the month's usage.
   */
  readonly billable: boolean;
  /** Estimated cost of the operation, when it ran (0 when it did not). */
  readonly queryCost: number;
}

export interface ErrorRecord {
  readonly fingerprint: string;
  readonly shape: ErrorShape;
  /** The registered tenant the request was for; null for platform calls. */
  readonly tenantId: string | null;
  readonly requestId: string;
  readonly at: Date;
}

function newest(ids: readonly string[], older: readonly string[]): string[] {
  return [...new Set([...ids, ...older])].slice(0, SAMPLE_REQUEST_IDS);
}

const earliest = (a: Date, b: Date) => (a <= b ? a : b);
const latest = (a: Date, b: Date) => (a >= b ? a : b);

/** Adds `more` (older or newer) into `into`: what every kind of cell has in common. */
const MERGE = {
  traffic(into: TrafficCell, more: TrafficCell) {
    into.requests += more.requests;
    into.errors += more.errors;
    into.failures += more.failures;
    into.durationMsSum += more.durationMsSum;
    addHistogram(into.latencyCounts, more.latencyCounts);
  },
  usage(into: UsageCell, more: UsageCell) {
    into.requests += more.requests;
    into.errors += more.errors;
    into.queryCost += more.queryCost;
  },
  clusters(into: ClusterCell, more: ClusterCell) {
    into.sampleRequestIds =
      more.lastSeen >= into.lastSeen
        ? newest(more.sampleRequestIds, into.sampleRequestIds)
        : newest(into.sampleRequestIds, more.sampleRequestIds);
    into.count += more.count;
    into.firstSeen = earliest(into.firstSeen, more.firstSeen);
    into.lastSeen = latest(into.lastSeen, more.lastSeen);
  },
  clusterTenants(into: ClusterTenantCell, more: ClusterTenantCell) {
    if (more.lastSeen >= into.lastSeen) into.lastRequestId = more.lastRequestId;
    into.count += more.count;
    into.firstSeen = earliest(into.firstSeen, more.firstSeen);
    into.lastSeen = latest(into.lastSeen, more.lastSeen);
  },
  health(into: HealthCell, more: HealthCell) {
    into.probes += more.probes;
    into.failures += more.failures;
  },
} as const;

type Kind = keyof typeof MERGE;
type CellOf<K extends Kind> = TelemetryBatch[K][number];

const KEY: { [K in Kind]: (cell: CellOf<K>) => string } = {
  traffic: (c) => `${c.tenantId}\u0000${c.windowStart.getTime()}`,
  usage: (c) => `${c.tenantId}\u0000${c.period}`,
  clusters: (c) => c.fingerprint,
  clusterTenants: (c) => `${c.fingerprint}\u0000${c.tenantId}`,
  health: (c) => `${c.tenantId}\u0000${c.minute.getTime()}`,
};

const KINDS = Object.keys(MERGE) as Kind[];

/**
 * What this process counted since its last flush, summed per key: a
 * request adds to its tenant's window (and, when billable, to its month),
 * an error to its cluster and the tenant's share of it, a probe to the
 * tenant's minute. Memory grows with the number of keys, never with the
 * number of requests.
 */
export class TelemetryBuffer {
  #cells = this.#empty();
  #dropped = 0;
  /** Fingerprints met (at most {@link MAX_KNOWN_FINGERPRINTS}). */
  #known = new Set<string>();
  /** New fingerprints admitted in this flush window, per tenant ("" for none). */
  #newInWindow = new Map<string, number>();

  /** Counts one request that was served for a registered tenant. */
  recordRequest(request: RequestRecord): void {
    const { tenantId, at } = request;
    const latencyCounts = emptyHistogram();
    latencyCounts[bucketOf(request.durationMs)] = 1;
    const errors = request.failed ? 1 : 0;

    this.#add("traffic", {
      tenantId,
      windowStart: windowStart(at, TRAFFIC_WINDOW_MS),
      requests: 1,
      errors,
      failures: request.serverFailed ? 1 : 0,
      durationMsSum: request.durationMs,
      latencyCounts,
    });
    if (!request.billable) return;
    this.#add("usage", {
      tenantId,
      period: periodOf(at),
      requests: 1,
      errors,
      queryCost: request.queryCost,
    });
  }

  /**
   * Counts one error under its fingerprint, and under the tenant's share
   * when there is one. A fingerprint not met before is admitted while its
   * tenant has added fewer than {@link MAX_NEW_CLUSTERS_PER_WINDOW} in this
   * flush window; past that it counts in the tenant's overflow cluster.
   */
  recordError(error: ErrorRecord): void {
    const { at, requestId } = error;
    let { fingerprint, shape } = error;
    if (!this.#known.has(fingerprint)) {
      const tenantKey = error.tenantId ?? "";
      const admitted = this.#newInWindow.get(tenantKey) ?? 0;
      if (admitted < MAX_NEW_CLUSTERS_PER_WINDOW) {
        this.#newInWindow.set(tenantKey, admitted + 1);
        if (this.#known.size >= MAX_KNOWN_FINGERPRINTS) this.#known.clear();
        this.#known.add(fingerprint);
      } else {
        shape = overflowShape(shape.code);
        fingerprint = overflowFingerprint(error.tenantId, shape.code);
      }
    }
    this.#add("clusters", {
      fingerprint,
      shape,
      count: 1,
      firstSeen: at,
      lastSeen: at,
      sampleRequestIds: [requestId],
    });
    if (error.tenantId === null) return;
    this.#add("clusterTenants", {
      fingerprint,
      tenantId: error.tenantId,
      count: 1,
      firstSeen: at,
      lastSeen: at,
      lastRequestId: requestId,
    });
  }

  /** Counts one health probe of a tenant's data location. */
  recordProbe(tenantId: string, at: Date, ok: boolean): void {
    this.#add("health", {
      tenantId,
      minute: windowStart(at, HEALTH_SAMPLE_MS),
      probes: 1,
      failures: ok ? 0 : 1,
    });
  }

  /** True when nothing waits to be written. */
  get isEmpty(): boolean {
    return KINDS.every((kind) => this.#cells[kind].size === 0);
  }

  /** Takes everything counted so far; the buffer starts over empty. */
  take(): TelemetryBatch {
    const cells = this.#cells;
    this.#cells = this.#empty();
    this.#newInWindow = new Map();

    return {
      traffic: [...cells.traffic.values()],
      usage: [...cells.usage.values()],
      clusters: [...cells.clusters.values()],
      clusterTenants: [...cells.clusterTenants.values()],
      health: [...cells.health.values()],
    };
  }

  /** Puts back a batch whose flush failed, to be written with the next one. */
  restore(batch: TelemetryBatch): void {
    for (const kind of KINDS) {
      for (const cell of batch[kind]) this.#add(kind, cell as never);
    }
  }

  /** Cells dropped at the bound since the last call, and resets the count. */
  takeDropped(): number {
    const dropped = this.#dropped;
    this.#dropped = 0;

    return dropped;
  }

  #add<K extends Kind>(kind: K, cell: CellOf<K>): void {
    const cells = this.#cells[kind] as Map<string, CellOf<K>>;
    const key = (KEY[kind] as (c: CellOf<K>) => string)(cell);
    const held = cells.get(key);
    if (held) {
      (MERGE[kind] as (into: CellOf<K>, more: CellOf<K>) => void)(held, cell);
      return;
    }
    if (cells.size >= MAX_CELLS_PER_KIND) {
      this.#dropped += 1;
      return;
    }
    cells.set(key, cell);
  }

  #empty(): { [K in Kind]: Map<string, CellOf<K>> } {
    return {
      traffic: new Map(),
      usage: new Map(),
      clusters: new Map(),
      clusterTenants: new Map(),
      health: new Map(),
    };
  }
}
