import { request } from "node:http";
import { expect } from "vitest";
import type { GraphQLResponse } from "../support/gateway.js";

/** A query that costs 1 (one object) and that anyone may send. */
export const CHEAP = "{ tenant { id } }";

/** The five rate limits of a tenant's `limits` document, all set at once. */
export interface RateLimitSizes {
  requestsPerMinute: number;
  userRequestsPerMinute: number;
  anonymousRequestsPerMinute: number;
  queryCostPerMinute: number;
  userQueryCostPerMinute: number;
}

/** Roomy sizes, for tests that lower one limit and must not meet the others. */
export const ROOMY: RateLimitSizes = {
  requestsPerMinute: 1_000,
  userRequestsPerMinute: 1_000,
  anonymousRequestsPerMinute: 1_000,
  queryCostPerMinute: 100_000,
  userQueryCostPerMinute: 100_000,
};

const UPDATE_LIMITS = `mutation ($input: UpdateTenantConfigInput!) {
  updateTenantConfig(input: $input) { id }
}`;

/** Anything that sends GraphQL: the in-process test gateway or a gateway process. */
export interface GraphQLSender {
  request<T = Record<string, unknown>>(
    query: string,
    options?: { tenant?: string; token?: string; variables?: Record<string, unknown> },
  ): Promise<GraphQLResponse<T>>;
}

/**
 * Replaces the tenant's rate limits through `updateTenantConfig`, as a global
 * admin would (whose own requests are not counted against the tenant).
 */
export async function setRateLimits(
  gw: GraphQLSender,
  globalAdminToken: string,
  tenantId: string,
  sizes: Partial<RateLimitSizes>,
): Promise<void> {
  const res = await gw.request(UPDATE_LIMITS, {
    tenant: tenantId,
    token: globalAdminToken,
    variables: { input: { limits: { ...ROOMY, ...sizes } } },
  });

  expect(res.body.errors).toBeUndefined();
}

/** The RateLimit header fields of a response, as numbers where they are numbers. */
export interface RateLimitFields {
  limit: number | null;
  remaining: number | null;
  reset: number | null;
  policy: string | null;
  retryAfter: number | null;
}

export function rateLimitFields(res: GraphQLResponse<unknown>): RateLimitFields {
  const number = (name: string) => {
    const value = res.headers?.get(name);
    return value === null || value === undefined ? null : Number(value);
  };

  return {
    limit: number("ratelimit-limit"),
    remaining: number("ratelimit-remaining"),
    reset: number("ratelimit-reset"),
    policy: res.headers?.get("ratelimit-policy") ?? null,
    retryAfter: number("retry-after"),
  };
}

/** The first error's extensions. */
export function extensionsOf(res: GraphQLResponse<unknown>): Record<string, unknown> {
  return res.body.errors?.[0]?.extensions ?? {};
}

/** The key of one of a tenant's counters in Redis. */
export function counterKey(
  tenantId: string,
  deploymentId: string,
  measure: "requests" | "cost",
  subject: string,
): string {
  return `ogc:${tenantId}:ratelimit:${deploymentId}:${measure}:${subject}`;
}

/**
 * Sends one GraphQL operation to the gateway at `url` (listening on
 * 127.0.0.1) from `localAddress`, another address of the loopback network
 * such as 127.0.0.2: the gateway sees a different client address.
 */
export function postFrom<T = Record<string, unknown>>(
  url: string,
  localAddress: string,
  query: string,
  options: { tenant?: string; token?: string } = {},
): Promise<GraphQLResponse<T>> {
  const body = JSON.stringify({ query });
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(body)),
    ...(options.tenant ? { "x-tenant-id": options.tenant } : {}),
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
  };

  return new Promise((resolve, reject) => {
    const sent = request(
      {
        host: "127.0.0.1",
        port: new URL(url).port,
        path: "/graphql",
        method: "POST",
        localAddress,
        headers,
        // One connection per request: none is left open when the gateway stops.
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const answered = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            for (const one of [value ?? []].flat()) answered.append(name, one);
          }
          resolve({
            status: res.statusCode ?? 0,
            headers: answered,
            body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as GraphQLResponse<T>["body"],
          });
        });
      },
    );
    sent.on("error", reject);
    sent.end(body);
  });
}
