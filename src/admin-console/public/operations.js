// The console's GraphQL operations. Their names are known to the gateway's
// metrics, which count them apart from client traffic.

export const TENANTS = {
  field: "adminTenants",
  query: `query AdminConsoleTenants {
  adminTenants {
    id
    name
    status
    isolation
    region
    health
    healthReport {
      status
      databaseReachable
      requestsLastHour
      errorsLastHour
      errorRate
      p95LatencyMs
      uptime24h
      lastError { code message at fingerprint requestId }
    }
    usageReport { period requests errors storageBytes databaseBytes connections }
    billingState { plan period overage lines { metric used included over } }
  }
}`,
};

export const TRAFFIC = {
  field: "adminTraffic",
  query: `query AdminConsoleTraffic($hours: Int) {
  adminTraffic(hours: $hours) {
    tenantId
    points { at requests errors p95LatencyMs }
  }
}`,
};

export const ERROR_CLUSTERS = {
  field: "adminErrorClusters",
  query: `query AdminConsoleErrorClusters($first: Int, $hours: Int) {
  adminErrorClusters(first: $first, orderBy: MOST_FREQUENT, seenWithinHours: $hours) {
    fingerprint
    code
    operation
    path
    message
    count
    firstSeen
    lastSeen
    tenants
    tenantCount
    sampleRequestIds
  }
}`,
};
