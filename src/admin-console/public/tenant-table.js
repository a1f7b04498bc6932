import { cell, clear, element } from "./dom.js";
import { formatBytes, formatCount, formatMilliseconds, formatShare, formatTime } from "./format.js";

/** Health values with a marker of their own; anything else shows as "other". */
const HEALTH_MARKERS = new Map([
  ["ok", { symbol: "●", tone: "good" }],
  ["degraded", { symbol: "▲", tone: "warn" }],
  ["provisioning", { symbol: "◌", tone: "warn" }],
  ["moving", { symbol: "◌", tone: "warn" }],
  ["suspended", { symbol: "■", tone: "muted" }],
  ["unreachable", { symbol: "✖", tone: "bad" }],
]);

function healthOf(tenant) {
  return tenant.healthReport?.status ?? tenant.health ?? "unknown";
}

/** The health word with a shape and colour, so it reads without colour too. */
function healthMarker(health) {
  const marker = HEALTH_MARKERS.get(health) ?? { symbol: "?", tone: "muted" };

  return element("span", { className: `health tone-${marker.tone}` }, [
    element("span", { text: marker.symbol, attributes: { "aria-hidden": "true" } }),
    ` ${health}`,
  ]);
}

function lastErrorCell(report) {
  const last = report?.lastError;
  if (!last) return cell("—");

  return cell(
    element("span", {}, [
      element("code", { text: last.code }),
      ` ${last.message} `,
      element("time", { text: formatTime(last.at), attributes: { datetime: last.at } }),
    ]),
  );
}

function overageCell(billing) {
  if (!billing) return cell("—");
  if (!billing.overage) return cell("no");
  const over = (billing.lines ?? []).filter((line) => line.over > 0).map((line) => line.metric);

  return cell(
    element("span", { className: "tone-bad" }, [
      `over plan${over.length > 0 ? `: ${over.join(", ")}` : ""}`,
    ]),
  );
}

function tenantRow(tenant) {
  const report = tenant.healthReport;
  const health = healthOf(tenant);
  return element("tr", { attributes: { "data-tenant-id": tenant.id } }, [
    element("th", { text: tenant.id, attributes: { scope: "row" } }),
    cell(tenant.name, { className: "tenant-name" }),
    cell(tenant.status),
    cell(tenant.billingState?.plan ?? "—"),
    cell(healthMarker(health), { attributes: { "data-health": health } }),
    cell(formatCount(report?.requestsLastHour), { className: "number" }),
    cell(formatShare(report?.errorRate), { className: "number" }),
    cell(formatMilliseconds(report?.p95LatencyMs), { className: "number" }),
    cell(formatShare(report?.uptime24h, 2), { className: "number" }),
    cell(formatBytes(tenant.usageReport?.storageBytes), { className: "number" }),
    overageCell(tenant.billingState),
    lastErrorCell(report),
  ]);
}

/** Fills the tenants table's body, one row per tenant, in the order given. */
export function renderTenants(body, tenants) {
  clear(body);
  if (tenants.length === 0) {
    body.append(element("tr", {}, [cell("No tenants yet.", { attributes: { colspan: 12 } })]));
    return;
  }
  body.append(...tenants.map(tenantRow));
}
