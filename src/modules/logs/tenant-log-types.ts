import { GraphQLJSON } from "graphql-scalars";
import { Field, Float, ID, Int, ObjectType } from "type-graphql";

@ObjectType("LogLine", { description: "One line of a tenant's own log." })
export class LogLineType {
  @Field(() => Date)
  time!: Date;

  @Field(() => String, { description: "trace, debug, info, warn, error or fatal." })
  level!: string;

  @Field(() => String)
  message!: string;

  @Field(() => String, { nullable: true, description: "The request that wrote it, if any." })
  requestId!: string | null;

  @Field(() => GraphQLJSON, { description: "The whole line as written (secrets redacted)." })
  line!: Record<string, unknown>;
}

@ObjectType("TenantLogExport", {
  description:
    "A copy of a tenant's log (its rotated file, then its current one) in the export directory.",
})
export class TenantLogExportType {
  @Field(() => ID)
  tenantId!: string;

  @Field(() => String, { description: "The copy's name in the export directory." })
  file!: string;

  @Field(() => Float, { description: "Size of the copy in bytes (a Float: past 2 GiB)." })
  bytes!: number;

  @Field(() => Int, { description: "Lines in the copy, one JSON object each." })
  lines!: number;

  @Field(() => String, { description: "SHA-256 of the copy, lower-case hex." })
  sha256!: string;
}
