import { GraphQLJSON } from "graphql-scalars";
import { Field, Float, InputType, Int, ObjectType, registerEnumType } from "type-graphql";
import type { StorageArea } from "../../storage/index.js";
import { createConnectionType } from "../common/pagination.js";

/**
 * The areas of a tenant's storage, valued as their folder names (see the
 * contract's Storage section), so resolvers receive `user-uploads` for
 * `USER_UPLOADS`.
 */
export const StorageAreaEnum = {
  USER_UPLOADS: "user-uploads",
  AI_OUTPUTS: "ai-outputs",
  CHALLENGE_DATA: "challenge-data",
} as const satisfies Record<string, StorageArea>;

registerEnumType(StorageAreaEnum, {
  name: "StorageArea",
  description: "A folder of the tenant's storage: user-uploads, ai-outputs or challenge-data.",
});

@InputType("CreateUploadUrlInput")
export class CreateUploadUrlInput {
  @Field(() => StorageAreaEnum)
  area!: StorageArea;

  @Field(() => String, {
    description:
      "Relative path in the area, like reports/q1.csv: letters, digits, spaces and . _ - ( ) +, segments joined with /.",
  })
  path!: string;

  @Field(() => Float, {
    description:
      "Exact size of the file in bytes (a whole number; Float because Int stops at 2 GiB). The upload must send exactly this many.",
  })
  size!: number;

  @Field(() => String, {
    nullable: true,
    description: "Media type the file is stored and served with; default application/octet-stream.",
  })
  contentType?: string | null;
}

@ObjectType("SignedUrl", { description: "A short-lived URL for one upload or download." })
export class SignedUrlType {
  @Field(() => String, {
    description: "Absolute when PUBLIC_URL is set; otherwise relative to the gateway (/storage/…).",
  })
  url!: string;

  @Field(() => String, { description: "PUT for uploads, GET for downloads." })
  method!: string;

  @Field(() => String, { description: "When the URL stops working (ISO 8601)." })
  expiresAt!: string;

  @Field(() => GraphQLJSON, { description: "Headers to send with the request." })
  headers!: Record<string, string>;
}

@ObjectType("StoredFile")
export class StoredFileType {
  @Field(() => StorageAreaEnum)
  area!: StorageArea;

  @Field(() => String)
  path!: string;

  @Field(() => Float, { description: "Size in bytes." })
  bytes!: number;

  @Field(() => String)
  contentType!: string;

  @Field(() => String, { description: "SHA-256 of the content, hex." })
  sha256!: string;

  @Field(() => String, { description: "ISO 8601." })
  createdAt!: string;

  @Field(() => String, { description: "ISO 8601; when the content was last replaced." })
  updatedAt!: string;
}

export const StoredFileConnection = createConnectionType("StoredFile", StoredFileType);

@ObjectType("StorageAreaUsage")
export class StorageAreaUsageType {
  @Field(() => StorageAreaEnum)
  area!: StorageArea;

  @Field(() => Float)
  bytes!: number;

  @Field(() => Int)
  files!: number;
}

@ObjectType("StorageUsage")
export class StorageUsageType {
  @Field(() => Float, { description: "Bytes all the tenant's files take." })
  bytes!: number;

  @Field(() => Int)
  files!: number;

  @Field(() => Float, { description: "The tenant's storage quota in bytes." })
  quotaBytes!: number;

  @Field(() => Float, { description: "Bytes still free under the quota." })
  freeBytes!: number;

  @Field(() => Float, { description: "Largest single upload in bytes." })
  maxUploadBytes!: number;

  @Field(() => [StorageAreaUsageType])
  areas!: StorageAreaUsageType[];
}
