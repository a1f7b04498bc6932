import type { Redis } from "ioredis";
import type { Logger } from "../logging/index.js";

/**
 * Per-tenant concurrency across every gateway process of a deployment: a
 * tenant has `limit` slots, each held by one job id under a lease that its
 * process renews while the job runs. BullMQ (open source) has no group
 * concurrency, so a job that finds no free slot is put back as delayed and
 * its id noted; the job that frees a slot wakes the noted ones.
 *
 * In Redis, per tenant:
 * - `<prefix>:tenants:<id>:holders`: sorted set, job id → lease end (ms);
 * - `<prefix>:tenants:<id>:waiters`: set of job ids waiting for a slot.
 *
 * A process that dies leaves its lease to expire after `leaseMs`; the same
 * job run again elsewhere (BullMQ's stalled-job recovery) finds its own id
 * holding the slot and goes on at once. Times come from Redis's clock, so
 * processes on hosts whose clocks differ agree on when a lease ends.
 */

/** Takes a slot (or keeps the one the job holds); notes the job as waiting when none is free. */
const ACQUIRE = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  redis.call('SREM', KEYS[2], ARGV[1])
  return 1
end
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 0`;

/** Extends the job's lease; 0 when it no longer holds a slot. */
const RENEW = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

/** Frees the job's slot and hands back (and forgets) the jobs waiting for one. */
const RELEASE = `
redis.call('ZREM', KEYS[1], ARGV[1])
local waiting = redis.call('SMEMBERS', KEYS[2])
redis.call('DEL', KEYS[2])
return waiting`;

/** 1 when a slot is free now. */
const HAS_ROOM = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then return 1 end
return 0`;

/** How long a note of a waiting job is kept when nobody frees a slot (ms). */
const WAITERS_TTL_MS = 24 * 60 * 60 * 1000;

/** A slot held by a job; its lease is renewed until it is released. */
export interface TenantLease {
  /** Frees the slot; resolves with the ids of the jobs that were waiting for one. */
  release(): Promise<string[]>;
}

export interface TenantSlotsOptions {
  readonly redis: Redis;
  /** Key prefix of the deployment, e.g. `ogc-jobs:<deploymentId>`. */
  readonly prefix: string;
  /** Slots per tenant (`JOBS_PER_TENANT`). */
  readonly limit: number;
  /** Lease length (see queueTimings in queue-runner.ts). */
  readonly leaseMs: number;
  /** How often a running job renews its lease: well before it runs out. */
  readonly renewMs: number;
  readonly logger: Logger;
}

export class TenantSlots {
  readonly #options: TenantSlotsOptions;

  constructor(options: TenantSlotsOptions) {
    this.#options = options;
  }

  #keys(tenantId: string): [string, string] {
    const base = `${this.#options.prefix}:tenants:${tenantId}`;

    return [`${base}:holders`, `${base}:waiters`];
  }

  /** A slot for `jobId`, or null (and the job noted as waiting) when all are taken. */
  async acquire(tenantId: string, jobId: string): Promise<TenantLease | null> {
    const { redis, limit, leaseMs, renewMs, logger } = this.#options;
    const [holders, waiters] = this.#keys(tenantId);
    const got = await redis.eval(
      ACQUIRE,
      2,
      holders,
      waiters,
      jobId,
      limit,
      leaseMs,
      WAITERS_TTL_MS,
    );
    if (got !== 1) return null;

    const renew = async () => {
      const held = await redis.eval(RENEW, 1, holders, jobId, leaseMs).catch((err: unknown) => {
        logger.child({ tenantId }).warn({ err, jobId }, "could not renew a job's tenant slot");
        return 1;
      });
      if (held === 1) return;
      // Its lease ran out (Redis stalled past it): there is nothing left to
      // renew, and saying so again at every renewal would say nothing new.
      clearInterval(timer);
      logger.child({ tenantId }).warn({ jobId }, "a running job lost its tenant slot");
    };
    const timer = setInterval(() => void renew(), renewMs);
    timer.unref();

    return {
      release: async () => {
        clearInterval(timer);
        const waiting = await redis.eval(RELEASE, 2, holders, waiters, jobId);

        return Array.isArray(waiting) ? waiting.map(String) : [];
      },
    };
  }

  /** Whether a job of the tenant could take a slot now. */
  async hasRoom(tenantId: string): Promise<boolean> {
    const [holders] = this.#keys(tenantId);

    return (await this.#options.redis.eval(HAS_ROOM, 1, holders, this.#options.limit)) === 1;
  }
}
