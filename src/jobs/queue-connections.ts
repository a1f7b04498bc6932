import { Redis } from "ioredis";
import { StoreHealth, type HealthMessages } from "../cache/store-health.js";
import type { Logger } from "../logging/index.js";

const MESSAGES: HealthMessages = {
  down: "Job queue Redis unavailable; jobs wait until it answers again",
  back: "Job queue Redis answers again; jobs run again",
  connected: "Job queue connected to Redis",
};

/**
 * The job queue's Redis connections: the ones it opens and every copy
 * BullMQ makes of them (a worker's blocking connection, the event
 * reader's), so that all of them are watched and, at stop, cut.
 *
 * - Log: a connection that fails retries for as long as Redis is away,
 *   failing again at every attempt. The log says so once when the first
 *   fails and once when all answer again (see StoreHealth), not once per
 *   attempt; the attempts themselves are logged at debug.
 * - Stop: BullMQ's close waits for a connection to be ready before it
 *   closes it, so with Redis away it would wait forever, and so would a
 *   command queued meanwhile. {@link disconnect} cuts every connection,
 *   which fails those waits at once.
 */
export class QueueConnections {
  readonly #url: string;
  readonly #logger: Logger;
  readonly #health: StoreHealth;
  /** Every connection not yet ended. */
  readonly #open = new Set<Redis>();
  /** Those whose last word was a failure. */
  readonly #failing = new Set<Redis>();

  constructor(url: string, logger: Logger) {
    this.#url = url;
    this.#logger = logger;
    this.#health = new StoreHealth(logger, false, MESSAGES);
  }

  /**
   * A new connection, for BullMQ: its commands wait out an outage
   * (`maxRetriesPerRequest: null`, which BullMQ's workers need).
   */
  open(): Redis {
    return this.#watch(new Redis(this.#url, { maxRetriesPerRequest: null }));
  }

  /** Whether every connection answers: false from the first failure until all are back. */
  get up(): boolean {
    return this.#health.up && this.#failing.size === 0;
  }

  /** Cuts every connection without waiting for Redis; nothing more is logged about them. */
  disconnect(): void {
    this.#health.close();
    for (const client of this.#open) client.disconnect();
  }

  #watch(client: Redis): Redis {
    this.#open.add(client);
    // BullMQ copies a connection it needs for itself; the copy is watched too.
    const duplicate = client.duplicate.bind(client);
    client.duplicate = (...options) => this.#watch(duplicate(...options));
    // Without an 'error' listener a failed connection would crash the process.
    client.on("error", (err: unknown) => {
      this.#failing.add(client);
      this.#health.failed(err);
      this.#logger.debug({ err }, "job queue Redis connection error");
    });
    client.on("ready", () => {
      this.#failing.delete(client);
      this.#settle();
    });
    // Closed on purpose: it no longer says anything about Redis.
    client.on("end", () => {
      this.#open.delete(client);
      this.#failing.delete(client);
      this.#settle();
    });

    return client;
  }

  /** Back up once no connection fails and one answers. */
  #settle(): void {
    if (this.#failing.size > 0) return;
    if ([...this.#open].some((client) => client.status === "ready")) this.#health.succeeded();
  }
}
