import { randomUUID } from "node:crypto";
import { withTimeout } from "../cache/with-timeout.js";
import type { Logger } from "../logging/index.js";
import {
  CONNECT_TIMEOUT_MS,
  destroyRedisClient,
  openRedisClient,
  type RedisClient,
} from "../redis/redis-client.js";

/**
 * What a process may hold that another process just changed:
 * - `tenant`: a tenant's record and configuration;
 * - `features`: the feature flags and their overrides;
 * - `all`: anything; sent when messages may have been lost (Redis was away).
 */
export type Invalidation =
  | { readonly kind: "tenant"; readonly tenantId: string }
  | { readonly kind: "features" }
  | { readonly kind: "all" };

export type InvalidationListener = (event: Invalidation) => void;

/**
 * Tells every gateway process of this deployment to forget what changed.
 * The publishing process hears its own event at once; the others through
 * Redis pub/sub. Without Redis there is one process and nobody else to tell.
 */
export interface InvalidationBus {
  publish(event: Invalidation): Promise<void>;
  /** Adds a listener; it is called for every event, local or remote. */
  listen(listener: InvalidationListener): void;
  close(): Promise<void>;
}

export interface InvalidationBusOptions {
  /** Redis for the other processes; unset means this process alone. */
  readonly redisUrl: string | undefined;
  /** Events stay within one deployment: its id names the channel. */
  readonly deploymentId: string;
  readonly logger: Logger;
}

/** Longest wait for Redis to take a message; a hung Redis must not hold a mutation. */
const PUBLISH_TIMEOUT_MS = 500;

interface Envelope {
  origin: string;
  event: Invalidation;
}

function parseEnvelope(message: string): Envelope | null {
  try {
    const envelope = JSON.parse(message) as Partial<Envelope>;
    const event = envelope.event as Partial<Invalidation> | undefined;
    if (typeof envelope.origin !== "string" || !event) return null;
    if (event.kind === "tenant" && typeof event.tenantId === "string") return envelope as Envelope;
    if (event.kind === "features" || event.kind === "all") return envelope as Envelope;
    return null;
  } catch {
    return null;
  }
}

/** Opens the bus; with Redis, it subscribes in the background and never blocks start-up. */
export function openInvalidationBus(options: InvalidationBusOptions): InvalidationBus {
  const logger = options.logger.child({ component: "invalidation-bus" });
  const listeners: InvalidationListener[] = [];
  const deliver = (event: Invalidation) => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        logger.error({ err: error, event }, "an invalidation listener failed");
      }
    }
  };
  if (!options.redisUrl) {
    return {
      publish: async (event) => deliver(event),
      listen: (listener) => void listeners.push(listener),
      close: async () => undefined,
    };
  }

  const channel = `ogc-events:${options.deploymentId}`;
  // Our own messages come back through Redis; the origin tells them apart.
  const origin = randomUUID();
  let publisherReady!: () => void;
  const firstConnection = new Promise<void>((resolve) => (publisherReady = resolve));
  const publisher = openRedisClient(options.redisUrl, {
    onReady: () => publisherReady(),
    onError: () => undefined,
  });
  let subscribed = false;
  let everReady = false;
  let closed = false;
  const subscriber: RedisClient = openRedisClient(options.redisUrl, {
    onReady: () => {
      // node-redis subscribes again by itself after a reconnection; what was
      // published meanwhile is lost, so everything cached is dropped.
      if (everReady) deliver({ kind: "all" });
      everReady = true;
      if (subscribed) return;
      subscribed = true;
      subscriber
        .subscribe(channel, (message) => {
          const envelope = parseEnvelope(message);
          if (envelope && envelope.origin !== origin) deliver(envelope.event);
        })
        .catch((error: unknown) => {
          subscribed = false;
          if (closed) return;
          logger.warn(
            { err: error },
            "could not subscribe to invalidations; retrying on reconnect",
          );
        });
    },
    onError: () => undefined,
  });

  return {
    publish: async (event) => {
      deliver(event);
      try {
        const message = JSON.stringify({ origin, event } satisfies Envelope);
        // A short-lived tool publishes right after opening the bus.
        if (!publisher.isReady) await withTimeout(firstConnection, CONNECT_TIMEOUT_MS);
        await withTimeout(publisher.publish(channel, message), PUBLISH_TIMEOUT_MS);
      } catch (error) {
        // Other processes fall back on their short TTLs (5 s for tenants).
        logger.warn({ err: error, event }, "could not publish an invalidation");
      }
    },
    listen: (listener) => void listeners.push(listener),
    close: async () => {
      closed = true;
      destroyRedisClient(subscriber);
      destroyRedisClient(publisher);
    },
  };
}
