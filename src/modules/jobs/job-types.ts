import { GraphQLJSON } from "graphql-scalars";
import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { JobStatus } from "../../generated/prisma/enums.js";
import { JobKind } from "../../jobs/index.js";

export { JobKind, JobStatus };

registerEnumType(JobKind, {
  name: "JobKind",
  description: "What a background job does to its tenant.",
  valuesConfig: {
    PROVISION: { description: "Creates the tenant (as provisionTenant does)." },
    MOVE: { description: "Moves the tenant to another tier or server (as moveTenant does)." },
    EXPORT: { description: "Writes the tenant's archive (as exportTenant does)." },
    MIGRATE: { description: "Brings the tenant's tables to the latest migration." },
  },
});

registerEnumType(JobStatus, {
  name: "JobStatus",
  description: "Where a background job stands.",
  valuesConfig: {
    QUEUED: { description: "Waiting to run, or to run again after a failed attempt." },
    RUNNING: { description: "An attempt is under way." },
    SUCCEEDED: { description: "Done; `result` says what it did." },
    FAILED: { description: "Given up; `error` says why." },
  },
});

@ObjectType("JobError", { description: "Why a job's attempt failed." })
export class JobErrorType {
  @Field(() => String, { description: "One of the contract's error codes." })
  code!: string;

  @Field(() => String)
  message!: string;

  @Field(() => String, {
    nullable: true,
    description: "The input field a BAD_USER_INPUT names.",
  })
  field!: string | null;
}

@ObjectType("Job", {
  description: "A background job: provisioning, a move, an export or a migration of one tenant.",
})
export class JobType {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  tenantId!: string;

  @Field(() => JobKind)
  kind!: JobKind;

  @Field(() => JobStatus)
  status!: JobStatus;

  @Field(() => Int, {
    description: "The current or last attempt, from 1; 0 while none has started.",
  })
  attempts!: number;

  @Field(() => Int, { description: "Attempts it may have before it fails for good." })
  maxAttempts!: number;

  @Field(() => String, { description: "Who asked for it (staff show as `platform` to tenants)." })
  requestedBy!: string;

  @Field(() => Date, { description: "When it was queued." })
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: "When its current attempt started." })
  startedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: "When it succeeded or failed for good." })
  finishedAt!: Date | null;

  @Field(() => GraphQLJSON, {
    nullable: true,
    description: "What it did, once SUCCEEDED (e.g. a move's tables, an export's file).",
  })
  result!: unknown;

  @Field(() => JobErrorType, {
    nullable: true,
    description: "The failure that ended it, or the one a pending retry follows.",
  })
  error!: JobErrorType | null;
}
