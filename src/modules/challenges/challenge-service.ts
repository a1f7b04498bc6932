import { actorOf, recordTenantAudit } from "../../audit/index.js";
import type { Principal } from "../../auth/index.js";
import type { TenantScope } from "../../context/gateway-context.js";
import { badInput, forbidden, notFound } from "../../errors/index.js";
import type { Access } from "../../rbac/access.js";
import { newId } from "../common/ids.js";
import { requireText } from "../common/validate.js";
import { CHALLENGES_SERVICE, SUBMISSION_SELECT } from "./challenge-loaders.js";
import type { ChallengeRecord, CreateChallengeInput, SubmissionRecord } from "./challenge-types.js";

interface Caller {
  principal: Principal | null;
  access: Access;
}

/** One page of challenges in creation order (`take + 1` rows). */
export async function listChallenges(
  scope: TenantScope,
  take: number,
  afterId: string | undefined,
) {
  return scope.db.challenge.findMany({
    where: { tenantId: scope.tenant.id, ...(afterId ? { id: { gt: afterId } } : {}) },
    select: { id: true, title: true },
    orderBy: { id: "asc" },
    take: take + 1,
  });
}

export async function createChallenge(
  scope: TenantScope,
  caller: Caller,
  input: CreateChallengeInput,
): Promise<ChallengeRecord> {
  const title = requireText("title", input.title, 160);
  const tenantId = scope.tenant.id;
  const challenge = { id: newId(), title };
  await scope.db.transaction(async (tx) => {
    await tx.challenge.create({ data: { tenantId, ...challenge } });
    await recordTenantAudit(tx, tenantId, {
      actorId: actorOf(caller.principal),
      action: "challenge.create",
      target: challenge.id,
    });
  });

  return challenge;
}

/** Records the caller's score on a challenge of this tenant. */
export async function submitToChallenge(
  scope: TenantScope,
  caller: Caller,
  challengeId: string,
  score: number,
): Promise<SubmissionRecord> {
  const authorId = caller.access.userId;
  if (!authorId) throw forbidden("Only a user of this tenant can submit to a challenge.");
  if (!Number.isFinite(score)) throw badInput("score", "score must be a finite number.");
  const challenge = await scope.loaders.challenge.load(challengeId);
  if (!challenge) throw notFound("Challenge");

  const tenantId = scope.tenant.id;
  const submission = await scope.db.submission.create({
    data: { tenantId, id: newId(), challengeId, authorId, score },
    select: SUBMISSION_SELECT,
  });
  await scope.cache.delete(CHALLENGES_SERVICE, "challenge-submissions", [challengeId]);
  scope.loaders.challengeSubmissions.clear(challengeId);

  return submission;
}
