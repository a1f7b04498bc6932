import { Arg, Ctx, Int, Mutation, Query, Resolver } from "type-graphql";
import { actorOf, recordTenantAudit } from "../../audit/index.js";
import { requireScope, type GatewayContext } from "../../context/gateway-context.js";
import type { StorageArea } from "../../storage/index.js";
import { listFiles, storageUsage, toSignedUrl } from "./storage-service.js";
import {
  CreateUploadUrlInput,
  SignedUrlType,
  StorageAreaEnum,
  StoredFileConnection,
  StorageUsageType,
} from "./storage-types.js";

/** Writes who asked for a storage change; uploads themselves carry no principal. */
async function audit(ctx: GatewayContext, action: string, target: string, detail = {}) {
  const scope = requireScope(ctx);
  await scope.db.transaction((tx) =>
    recordTenantAudit(tx, scope.tenant.id, {
      actorId: actorOf(ctx.principal),
      action,
      target,
      detail,
    }),
  );
}

@Resolver()
export class StorageResolver {
  @Query(() => StoredFileConnection, { description: "Files of one area, in path order." })
  async files(
    @Ctx() ctx: GatewayContext,
    @Arg("area", () => StorageAreaEnum) area: StorageArea,
    @Arg("first", () => Int, { nullable: true }) first?: number | null,
    @Arg("after", () => String, { nullable: true }) after?: string | null,
    @Arg("prefix", () => String, {
      nullable: true,
      description: "Only paths starting with this, e.g. reports/.",
    })
    prefix?: string | null,
  ) {
    return listFiles(ctx.platform, requireScope(ctx), area, { first, after, prefix });
  }

  @Query(() => StorageUsageType, { description: "Bytes and files per area, against the quota." })
  async storageUsage(@Ctx() ctx: GatewayContext) {
    return storageUsage(ctx.platform, requireScope(ctx));
  }

  @Mutation(() => SignedUrlType, {
    description:
      "A short-lived URL to PUT one file of exactly `size` bytes; QUOTA_EXCEEDED when it would not fit.",
  })
  async createUploadUrl(
    @Ctx() ctx: GatewayContext,
    @Arg("input", () => CreateUploadUrlInput) input: CreateUploadUrlInput,
  ) {
    const scope = requireScope(ctx);
    const link = await ctx.platform.storage.createUploadLink(scope.tenant, input);
    await audit(ctx, "storage.upload-url", `${input.area}/${input.path}`, { size: input.size });

    return toSignedUrl(link);
  }

  @Mutation(() => SignedUrlType, { description: "A short-lived URL to GET one file." })
  async createDownloadUrl(
    @Ctx() ctx: GatewayContext,
    @Arg("area", () => StorageAreaEnum) area: StorageArea,
    @Arg("path", () => String) path: string,
  ) {
    const scope = requireScope(ctx);

    return toSignedUrl(await ctx.platform.storage.createDownloadLink(scope.tenant, area, path));
  }

  @Mutation(() => Boolean, { description: "Removes a file; false when there was none." })
  async deleteFile(
    @Ctx() ctx: GatewayContext,
    @Arg("area", () => StorageAreaEnum) area: StorageArea,
    @Arg("path", () => String) path: string,
  ) {
    const scope = requireScope(ctx);
    const removed = await ctx.platform.storage.deleteFile(scope.tenant, area, path);
    if (removed) await audit(ctx, "storage.delete", `${area}/${path}`);

    return removed;
  }
}
