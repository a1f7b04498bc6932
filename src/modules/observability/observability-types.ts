import { Field, Float, ID, Int, ObjectType, registerEnumType } from "type-graphql";

/** How `adminErrorClusters` orders what it returns. */
export enum ErrorClusterOrder {
  MOST_RECENT = "MOST_RECENT",
  MOST_FREQUENT = "MOST_FREQUENT",
}

registerEnumType(ErrorClusterOrder, {
  name: "ErrorClusterOrder",
  description: "The order of error clusters.",
  valuesConfig: {
    MOST_RECENT: { description: "Latest `lastSeen` first." },
    MOST_FREQUENT: { description: "Highest `count` first (the top clusters), then latest." },
  },
});

@ObjectType("TenantLastError", {
  description:
    "The newest server-side failure (INTERNAL_SERVER_ERROR) a tenant's requests met; client errors are in adminErrorClusters.",
})
export class TenantLastErrorType {
  @Field(() => String)
  code!: string;

  @Field(() => String, { description: "With its values taken out, as its error cluster shows it." })
  message!: string;

  @Field(() => Date)
  at!: Date;

  @Field(() => ID, { description: "Its error cluster (`adminErrorClusters`)." })
  fingerprint!: string;

  @Field(() => String, { description: "The request that met it, as logged (`X-Request-ID`)." })
  requestId!: string;
}

@ObjectType("TenantHealth", { description: "How a tenant is served, from every gateway process." })
export class TenantHealthType {
  @Field(() => String, {
    description:
      "ok, degraded (error rate or uptime low), moving, unreachable, suspended or provisioning",
  })
  status!: string;

  @Field(() => Boolean, { description: "Whether its database answered just now." })
  databaseReachable!: boolean;

  @Field(() => Int)
  requestsLastHour!: number;

  @Field(() => Int, {
    description:
      "Requests of the last hour whose answer held any error, the client's own (bad input, no token, rate limits) included.",
  })
  errorsLastHour!: number;

  @Field(() => Int, {
    description:
      "Requests of the last hour that met a server-side failure (INTERNAL_SERVER_ERROR), the platform's fault.",
  })
  failuresLastHour!: number;

  @Field(() => Float, {
    description:
      "failuresLastHour / requestsLastHour (0..1; 0 without requests): server-side failures only.",
  })
  errorRate!: number;

  @Field(() => Float, {
    nullable: true,
    description:
      "95th percentile of the last hour's request durations (ms), as the upper bound of its latency bucket; null without requests.",
  })
  p95LatencyMs!: number | null;

  @Field(() => TenantLastErrorType, { nullable: true })
  lastError!: TenantLastErrorType | null;

  @Field(() => Float, {
    nullable: true,
    description:
      "Share of the last 24 hours' health probes its database answered (0..1); null without probes.",
  })
  uptime24h!: number | null;
}

@ObjectType("TenantUsageReport", { description: "What a tenant uses this month and right now." })
export class TenantUsageReportType {
  @Field(() => String, { description: "The calendar month (UTC) counted, e.g. 2026-12." })
  period!: string;

  @Field(() => Float, {
    description:
      "Billable requests this month, summed over every process: operations that ran, made by the tenant's own signed-in users.",
  })
  requests!: number;

  @Field(() => Float, { description: "Billable requests this month whose answer held an error." })
  errors!: number;

  @Field(() => Float, { description: "Estimated cost of the operations that ran this month." })
  queryCost!: number;

  @Field(() => Float, { description: "Bytes of its stored files." })
  storageBytes!: number;

  @Field(() => Float, {
    nullable: true,
    description:
      "Bytes its data takes in the database: its rows (SHARED), its schema (SCHEMA) or its database (DATABASE); null when unreachable.",
  })
  databaseBytes!: number | null;

  @Field(() => Int, {
    nullable: true,
    description:
      "Connections open to where its data lives, by its database and login (SHARED and SCHEMA tenants share theirs); null when unreachable.",
  })
  connections!: number | null;
}

@ObjectType("BillingLine", { description: "One metered item against what the plan includes." })
export class BillingLineType {
  @Field(() => String, { description: "requests (this month) or storageBytes." })
  metric!: string;

  @Field(() => Float)
  used!: number;

  @Field(() => Float)
  included!: number;

  @Field(() => Float, { description: "What was used past the included amount (0 when within)." })
  over!: number;
}

@ObjectType("BillingState", { description: "A tenant's plan and its usage against it." })
export class BillingStateType {
  @Field(() => String)
  plan!: string;

  @Field(() => String, { description: "The calendar month (UTC) billed, e.g. 2026-12." })
  period!: string;

  @Field(() => [BillingLineType])
  lines!: BillingLineType[];

  @Field(() => Boolean, { description: "True when any line is over what the plan includes." })
  overage!: boolean;
}

@ObjectType("ErrorCluster", {
  description:
    "Errors grouped by a stable fingerprint: code, operation, path and the message with its values taken out.",
})
export class ErrorClusterType {
  @Field(() => ID)
  fingerprint!: string;

  @Field(() => String)
  code!: string;

  @Field(() => String, {
    description:
      "The operation's name when it is a known one (as in the metrics), anonymous when none was given, else other.",
  })
  operation!: string;

  @Field(() => String, {
    description:
      "The schema field path without list indices or aliases (at most 10 fields); empty for request errors.",
  })
  path!: string;

  @Field(() => String)
  message!: string;

  @Field(() => Float, {
    description: "How often it was met; with a tenantId filter, by that tenant only.",
  })
  count!: number;

  @Field(() => Date, { description: "First met; with a tenantId filter, by that tenant." })
  firstSeen!: Date;

  @Field(() => Date, { description: "Last met; with a tenantId filter, by that tenant." })
  lastSeen!: Date;

  @Field(() => [String], { description: "Ids of the tenants that met it, most recent first." })
  tenants!: string[];

  @Field(() => Int)
  tenantCount!: number;

  @Field(() => [String], {
    description:
      "The latest request ids that met it, newest first; with a tenantId filter, that tenant's latest one.",
  })
  sampleRequestIds!: string[];
}

@ObjectType("TrafficPoint", { description: "One tenant's requests in one five-minute window." })
export class TrafficPointType {
  @Field(() => Date, { description: "Start of the window." })
  at!: Date;

  @Field(() => Int)
  requests!: number;

  @Field(() => Int, { description: "Requests whose answer held any error." })
  errors!: number;

  @Field(() => Int, {
    description: "Requests that met a server-side failure (INTERNAL_SERVER_ERROR).",
  })
  failures!: number;

  @Field(() => Float, { nullable: true, description: "Null without requests." })
  p95LatencyMs!: number | null;
}

@ObjectType("TenantTrafficSeries")
export class TenantTrafficSeriesType {
  @Field(() => ID)
  tenantId!: string;

  @Field(() => [TrafficPointType], {
    description: "Oldest first: the windows that had requests (any other had none).",
  })
  points!: TrafficPointType[];
}
