import { timingSafeEqual } from "node:crypto";
import type { Express } from "express";
import type { GatewayCache } from "../cache/index.js";
import type { Database } from "../data/index.js";
import type { Metrics } from "../observability/index.js";

/** Longest wait for one readiness probe before it counts as down (ms). */
const PROBE_TIMEOUT_MS = 1_000;

async function probe(check: () => Promise<unknown>): Promise<"up" | "down"> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"down">((resolve) => {
    timer = setTimeout(() => resolve("down"), PROBE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([check().then((ok) => (ok === false ? "down" : "up")), timeout]);
  } catch {
    return "down";
  } finally {
    clearTimeout(timer);
  }
}

/** Compares in constant time, so the answer's timing does not leak the token. */
function sameSecret(given: string | undefined, expected: string): boolean {
  const a = Buffer.from(given ?? "");
  const b = Buffer.from(expected);

  return a.length === b.length && timingSafeEqual(a, b);
}

/** The credential of `Authorization: Bearer …`; the scheme's case does not matter (RFC 9110). */
function bearerOf(header: string | undefined): string | undefined {
  const match = /^bearer +(\S+)$/i.exec(header ?? "");

  return match?.[1];
}

/** Mounts `/healthz`, `/readyz` and `/metrics`. */
export function mountHealthRoutes(
  app: Express,
  deps: { database: Database; cache: GatewayCache; metrics: Metrics; metricsToken?: string },
): void {
  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  app.get("/readyz", async (_req, res) => {
    const [database, cache] = await Promise.all([
      probe(() => deps.database.ping()),
      probe(() => deps.cache.ping()),
    ]);
    const ready = database === "up" && cache === "up";
    const down = Object.entries({ database, cache })
      .filter(([, state]) => state === "down")
      .map(([name]) => name);
    res
      .status(ready ? 200 : 503)
      .json({ status: ready ? "ready" : "unavailable", checks: { database, cache }, down });
  });

  app.get("/metrics", async (req, res) => {
    // Series name every tenant: behind the token, which production requires
    // (src/config refuses to start without METRICS_TOKEN).
    if (deps.metricsToken && !sameSecret(bearerOf(req.headers.authorization), deps.metricsToken)) {
      res.status(401).json({
        errors: [
          { message: "Metrics need the metrics token.", extensions: { code: "UNAUTHENTICATED" } },
        ],
      });
      return;
    }
    // Per-tenant figures come from the control plane, read within METRICS_READ_TIMEOUT_MS.
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.render());
  });
}
