import { cell, clear, element } from "./dom.js";
import { formatCount, formatTime } from "./format.js";

function timeCell(iso) {
  return cell(element("time", { text: formatTime(iso), attributes: { datetime: iso } }));
}

/** Tenant ids as a list; `tenantCount` says how many there are beyond those listed. */
function tenantsCell(cluster) {
  const ids = cluster.tenants ?? [];
  const more = (cluster.tenantCount ?? ids.length) - ids.length;
  const list = element(
    "ul",
    { className: "inline-list" },
    ids.map((id) => element("li", { text: id })),
  );

  return cell(element("div", {}, [list, ...(more > 0 ? [`and ${more} more`] : [])]));
}

function requestIdsCell(ids) {
  return cell(
    element(
      "ul",
      { className: "inline-list" },
      (ids ?? []).map((id) => element("li", {}, [element("code", { text: id })])),
    ),
  );
}

function clusterRow(cluster) {
  const where = [cluster.operation, cluster.path].filter(Boolean).join(" › ");

  return element("tr", { attributes: { "data-fingerprint": cluster.fingerprint } }, [
    element("th", { attributes: { scope: "row" } }, [element("code", { text: cluster.code })]),
    cell(cluster.message, { className: "message" }),
    cell(where || "—"),
    cell(formatCount(cluster.count), { className: "number" }),
    tenantsCell(cluster),
    timeCell(cluster.firstSeen),
    timeCell(cluster.lastSeen),
    requestIdsCell(cluster.sampleRequestIds),
  ]);
}

/** Fills the error clusters table's body in the gateway's order (most frequent first). */
export function renderClusters(body, clusters) {
  clear(body);
  if (clusters.length === 0) {
    body.append(element("tr", {}, [cell("No errors recorded.", { attributes: { colspan: 8 } })]));
    return;
  }
  body.append(...clusters.map(clusterRow));
}
