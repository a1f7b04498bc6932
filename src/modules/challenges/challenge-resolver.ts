import {
  Arg,
  Ctx,
  FieldResolver,
  Float,
  ID,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
} from "type-graphql";
import { requireScope, type GatewayContext } from "../../context/gateway-context.js";
import { nestedListSize } from "../common/nested-list.js";
import { parsePageRequest, toConnection } from "../common/pagination.js";
import { UserType } from "../identity/identity-types.js";
import { loadUserOrFail } from "../identity/identity-resolver.js";
import * as challenges from "./challenge-service.js";
import {
  ChallengeConnection,
  ChallengeType,
  CreateChallengeInput,
  SubmissionType,
  type ChallengeRecord,
  type SubmissionRecord,
} from "./challenge-types.js";

@Resolver(() => ChallengeType)
export class ChallengeResolver {
  @Query(() => ChallengeConnection)
  async challenges(
    @Ctx() ctx: GatewayContext,
    @Arg("first", () => Int, { nullable: true }) first?: number | null,
    @Arg("after", () => String, { nullable: true }) after?: string | null,
  ) {
    const scope = requireScope(ctx);
    const page = parsePageRequest(first, after);
    const rows = await challenges.listChallenges(scope, page.take, page.afterId);
    for (const row of rows) scope.loaders.challenge.prime(row.id, row);

    return toConnection(rows, page.take);
  }

  @Mutation(() => ChallengeType)
  async createChallenge(
    @Ctx() ctx: GatewayContext,
    @Arg("input", () => CreateChallengeInput) input: CreateChallengeInput,
  ) {
    return challenges.createChallenge(requireScope(ctx), ctx, input);
  }

  @Mutation(() => SubmissionType)
  async submitToChallenge(
    @Ctx() ctx: GatewayContext,
    @Arg("challengeId", () => ID) challengeId: string,
    @Arg("score", () => Float) score: number,
  ) {
    return challenges.submitToChallenge(requireScope(ctx), ctx, challengeId, score);
  }

  @FieldResolver(() => [SubmissionType], { description: "The first submissions, oldest first." })
  async submissions(
    @Root() challenge: ChallengeRecord,
    @Ctx() ctx: GatewayContext,
    @Arg("first", () => Int, { defaultValue: 20, description: "At most 100." }) first: number,
  ) {
    const size = nestedListSize(first);
    const submissions = await requireScope(ctx).loaders.challengeSubmissions.load(challenge.id);

    return submissions.slice(0, size);
  }
}

@Resolver(() => SubmissionType)
export class SubmissionResolver {
  @FieldResolver(() => UserType)
  async author(@Root() submission: SubmissionRecord, @Ctx() ctx: GatewayContext) {
    return loadUserOrFail(ctx, submission.authorId);
  }
}
