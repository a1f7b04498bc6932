import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import { actorOf, recordPlatformAudit } from "../../audit/index.js";
import { requireScope, type GatewayContext } from "../../context/gateway-context.js";
import { badInput } from "../../errors/index.js";
import {
  findJob,
  JobKind,
  listJobs,
  tenantEpoch,
  type JobRequest,
  type JobRow,
} from "../../jobs/index.js";
import { hasPermission } from "../../rbac/access.js";
import { isTenantId } from "../../tenancy/index.js";
import { auditFailures } from "../platform/audit-failures.js";
import { Isolation, ProvisionTenantInput } from "../platform/platform-types.js";
import { JobStatus, JobType } from "./job-types.js";
import { jobView } from "./job-view.js";

/** Most jobs one list answers. */
const MAX_FIRST = 100;

function checkFirst(first: number): number {
  if (!Number.isInteger(first) || first < 1 || first > MAX_FIRST) {
    throw badInput("first", `first must be from 1 to ${MAX_FIRST}.`);
  }

  return first;
}

/**
 * Global admins read any job; a tenant's config writers read that tenant's
 * jobs only, and none queued for an earlier tenant of the same id.
 */
async function mayRead(ctx: GatewayContext, row: JobRow): Promise<boolean> {
  if (ctx.principal?.isGlobalAdmin) return true;
  if (ctx.scope?.tenant.id !== row.tenantId || !hasPermission(ctx.access, "config:write")) {
    return false;
  }
  const epoch = await tenantEpoch(ctx.platform.database.control, row.tenantId);

  return epoch === null || row.createdAt >= epoch;
}

function requesterOf(ctx: GatewayContext): string {
  return actorOf(ctx.principal) ?? "unknown";
}

/**
 * Queues one job as a platform action: a refusal is audited as
 * `job.<kind>.failed`, a queued job as `job.<kind>` naming it.
 */
async function startAudited(ctx: GatewayContext, request: JobRequest): Promise<JobType> {
  const action = `job.${request.kind.toLowerCase()}`;
  const row = await auditFailures(ctx, action, { tenantId: request.tenantId }, () =>
    ctx.platform.jobs.start(request),
  );
  await recordPlatformAudit(ctx.platform.database.control, {
    actorId: actorOf(ctx.principal),
    action,
    tenantId: row.tenantId,
    detail: { jobId: row.id, requestId: ctx.requestId },
  });

  return jobView(ctx, row);
}

/** Background jobs: status for staff and tenant admins, and the platform's `start…` mutations. */
@Resolver()
export class JobResolver {
  @Query(() => JobType, {
    nullable: true,
    description:
      "A background job. Global admins see any; a tenant admin sees the request tenant's only; anything else is null.",
  })
  async job(@Ctx() ctx: GatewayContext, @Arg("id", () => ID) id: string): Promise<JobType | null> {
    const row = id.length <= 100 ? await findJob(ctx.platform.database.control, id) : null;

    return row && (await mayRead(ctx, row)) ? jobView(ctx, row) : null;
  }

  @Query(() => [JobType], { description: "Global admin only. Recent jobs, newest first." })
  async jobs(
    @Ctx() ctx: GatewayContext,
    @Arg("tenantId", () => ID, { nullable: true }) tenantId?: string | null,
    @Arg("status", () => JobStatus, { nullable: true }) status?: JobStatus | null,
    @Arg("first", () => Int, { nullable: true, defaultValue: 20, description: "1 to 100." })
    first?: number | null,
  ): Promise<JobType[]> {
    if (tenantId != null && !isTenantId(tenantId)) {
      throw badInput("tenantId", "tenantId is not a tenant id.");
    }
    const rows = await listJobs(ctx.platform.database.control, {
      tenantId: tenantId ?? undefined,
      status: status ?? undefined,
      first: checkFirst(first ?? 20),
    });

    return rows.map((row) => jobView(ctx, row));
  }

  @Query(() => [JobType], { description: "The request tenant's recent jobs, newest first." })
  async tenantJobs(
    @Ctx() ctx: GatewayContext,
    @Arg("first", () => Int, { nullable: true, defaultValue: 10, description: "1 to 100." })
    first?: number | null,
  ): Promise<JobType[]> {
    const control = ctx.platform.database.control;
    const tenantId = requireScope(ctx).tenant.id;
    const limit = checkFirst(first ?? 10);
    // This tenant's jobs, none of an earlier one of its id (`jobs` shows those to staff).
    const epoch = await tenantEpoch(control, tenantId);
    const rows = await listJobs(control, {
      tenantId,
      ...(epoch === null ? {} : { since: epoch }),
      first: limit,
    });

    return rows.map((row) => jobView(ctx, row));
  }

  @Mutation(() => JobType, {
    description: "Global admin only. Queues provisioning (see provisionTenant); answers at once.",
  })
  async startProvisionTenant(
    @Ctx() ctx: GatewayContext,
    @Arg("input", () => ProvisionTenantInput) input: ProvisionTenantInput,
  ): Promise<JobType> {
    return startAudited(ctx, {
      kind: JobKind.PROVISION,
      tenantId: input.id.trim(),
      input: { ...input },
      requestedBy: requesterOf(ctx),
    });
  }

  @Mutation(() => JobType, {
    description: "Global admin only. Queues a move (see moveTenant); answers at once.",
  })
  async startMoveTenant(
    @Ctx() ctx: GatewayContext,
    @Arg("id", () => ID) id: string,
    @Arg("isolation", () => Isolation) isolation: Isolation,
    @Arg("region", () => String, { nullable: true }) region?: string | null,
    @Arg("server", () => String, { nullable: true }) server?: string | null,
  ): Promise<JobType> {
    return startAudited(ctx, {
      kind: JobKind.MOVE,
      tenantId: id,
      input: { isolation, region: region ?? null, server: server ?? null },
      requestedBy: requesterOf(ctx),
    });
  }

  @Mutation(() => JobType, {
    description: "Global admin only. Queues an export (see exportTenant); answers at once.",
  })
  async startExportTenant(
    @Ctx() ctx: GatewayContext,
    @Arg("id", () => ID) id: string,
  ): Promise<JobType> {
    return startAudited(ctx, {
      kind: JobKind.EXPORT,
      tenantId: id,
      input: {},
      requestedBy: requesterOf(ctx),
    });
  }

  @Mutation(() => [JobType], {
    description:
      "Global admin only. Queues one MIGRATE job per tenant: the one named, a release channel's, or every tenant.",
  })
  async startMigrateTenants(
    @Ctx() ctx: GatewayContext,
    @Arg("tenantId", () => ID, { nullable: true }) tenantId?: string | null,
    @Arg("channel", () => String, { nullable: true }) channel?: string | null,
  ): Promise<JobType[]> {
    const named = {
      ...(tenantId == null ? {} : { tenantId }),
      ...(channel == null ? {} : { channel }),
    };
    const rows = await auditFailures(ctx, "job.migrate", named, () =>
      ctx.platform.jobs.startMigrations({ tenantId, channel }, requesterOf(ctx)),
    );
    await recordPlatformAudit(ctx.platform.database.control, {
      actorId: actorOf(ctx.principal),
      action: "job.migrate",
      tenantId: tenantId ?? null,
      detail: { ...named, jobs: rows.length, requestId: ctx.requestId },
    });

    return rows.map((row) => jobView(ctx, row));
  }
}
