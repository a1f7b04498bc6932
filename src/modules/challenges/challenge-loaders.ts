import type { TenantClient } from "../../data/index.js";
import { createEntityLoader, type LoaderSource } from "../../loaders/index.js";
import { groupBy } from "../common/group-by.js";
import { NESTED_LIST_MAX } from "../common/nested-list.js";
import type { ChallengeRecord, SubmissionRecord } from "./challenge-types.js";

/** Cache service name: `ogc:{tenant}:challenges:…`. */
export const CHALLENGES_SERVICE = "challenges";

export const SUBMISSION_SELECT = {
  id: true,
  challengeId: true,
  authorId: true,
  score: true,
} as const;

export function createChallengeLoaders(db: TenantClient, source: LoaderSource) {
  return {
    challenge: createEntityLoader<ChallengeRecord | null>(source, {
      service: CHALLENGES_SERVICE,
      entity: "challenge",
      missing: null,
      fetch: async (ids) => {
        const rows = await db.challenge.findMany({
          where: { tenantId: db.tenantId, id: { in: [...ids] } },
          select: { id: true, title: true },
        });
        return new Map(rows.map((row) => [row.id, row]));
      },
    }),

    // The first NESTED_LIST_MAX submissions of each challenge, in one query.
    challengeSubmissions: createEntityLoader<SubmissionRecord[]>(source, {
      service: CHALLENGES_SERVICE,
      entity: "challenge-submissions",
      missing: [],
      fetch: async (challengeIds) => {
        const rows = await db.$queryRaw<SubmissionRecord[]>`
          SELECT id, "challengeId", "authorId", score FROM (
            SELECT id, "challengeId", "authorId", score,
                   row_number() OVER (PARTITION BY "challengeId" ORDER BY id) AS position
            FROM "Submission"
            WHERE "tenantId" = ${db.tenantId} AND "challengeId" = ANY(${[...challengeIds]})
          ) ranked
          WHERE position <= ${NESTED_LIST_MAX}
          ORDER BY "challengeId", id`;
        return groupBy(rows, (row) => row.challengeId);
      },
    }),
  };
}

export type ChallengeLoaders = ReturnType<typeof createChallengeLoaders>;
