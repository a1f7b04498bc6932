import { Field, Float, ID, ObjectType } from "type-graphql";
import { TableDigestType } from "./platform-types.js";

@ObjectType("TenantExport", { description: "An archive of one tenant: rows, config, manifest." })
export class TenantExportType {
  @Field(() => ID)
  tenantId!: string;

  @Field(() => String, {
    description: "The archive's name in the export directory; importTenant takes it as is.",
  })
  file!: string;

  @Field(() => Float, { description: "Size of the archive in bytes (a Float: past 2 GiB)." })
  bytes!: number;

  @Field(() => String, { description: "SHA-256 of the archive file, lower-case hex." })
  sha256!: string;

  @Field(() => String, { description: "When the snapshot was taken (ISO 8601)." })
  exportedAt!: string;

  @Field(() => String, { description: "The migration the rows were read at." })
  schemaVersion!: string;

  @Field(() => [TableDigestType], {
    description: "Per table, as the manifest records it; equal data gives equal checksums.",
  })
  tables!: TableDigestType[];
}
