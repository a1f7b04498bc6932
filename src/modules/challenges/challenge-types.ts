import { Field, Float, ID, InputType, ObjectType } from "type-graphql";
import { createConnectionType } from "../common/pagination.js";

export interface ChallengeRecord {
  id: string;
  title: string;
}

export interface SubmissionRecord {
  id: string;
  challengeId: string;
  authorId: string;
  score: number;
}

@ObjectType("Challenge")
export class ChallengeType implements ChallengeRecord {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  title!: string;
}

export const ChallengeConnection = createConnectionType("Challenge", ChallengeType);

@ObjectType("Submission")
export class SubmissionType {
  @Field(() => ID)
  id!: string;

  @Field(() => Float)
  score!: number;
}

@InputType("CreateChallengeInput")
export class CreateChallengeInput {
  @Field(() => String)
  title!: string;
}
