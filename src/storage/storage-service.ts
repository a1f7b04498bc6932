import { randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import { badInput, forbidden, notFound } from "../errors/index.js";
import type { PrismaClient } from "../generated/prisma/client.js";
import type { Logger } from "../logging/index.js";
import { limitsOf } from "../tenant-config/effective-config.js";
import type { TenantRecord } from "../tenancy/tenant-registry.js";
import { parseContentType } from "./content-type.js";
import {
  bytesInUse,
  findCollision,
  findFile,
  forgetFile,
  listFiles,
  usageByArea,
  withStorageLock,
  type AreaUsage,
  type FileRecord,
} from "./file-ledger.js";
import { takeFile, type Placement } from "./file-placement.js";
import {
  openDownload,
  storeUpload,
  type OpenDownload,
  type StoredUpload,
  type TransferDependencies,
} from "./file-transfer.js";
import { removeExpiredClaims } from "./link-claims.js";
import { checkQuota, checkUploadSize } from "./quota.js";
import { UnsafeStoragePathError } from "./storage-errors.js";
import type { StorageArea, StorageLayout } from "./storage-layout.js";
import { linkUrl, type RequestedLink } from "./storage-links.js";
import { parseStoragePath } from "./storage-path.js";
import { locateFile } from "./tenant-files.js";
import { admitUpload } from "./upload-admission.js";
import { UploadsInFlight } from "./uploads-in-flight.js";
import type { LinkClaims, UrlSigner } from "./url-signer.js";

export interface StorageServiceOptions {
  readonly layout: StorageLayout;
  /** The control-plane client: the file ledger lives there. */
  readonly control: PrismaClient;
  /** Signs links for this deployment only (see UrlSigner). */
  readonly signer: UrlSigner;
  /** Seconds a signed link stays valid (`STORAGE_URL_TTL_SECONDS`, default 300). */
  readonly urlTtlSeconds: number;
  /** Base of link URLs (`PUBLIC_URL`); unset, links are relative to the gateway. */
  readonly publicUrl?: string;
  readonly logger: Logger;
}

/** The parts of a tenant storage works with. */
export type StorageTenant = Pick<TenantRecord, "id" | "storageBucket" | "config">;

/** A short-lived link a client uploads or downloads one file with. */
export interface SignedLink {
  readonly url: string;
  readonly method: "GET" | "PUT";
  readonly expiresAt: Date;
  /** Headers to send with the request. */
  readonly headers: Readonly<Record<string, string>>;
}

export interface UploadRequest {
  readonly area: StorageArea;
  readonly path: string;
  readonly size: number;
  readonly contentType?: string | null;
}

export interface StorageUsage {
  readonly bytes: number;
  readonly files: number;
  readonly quotaBytes: number;
  readonly maxUploadBytes: number;
  readonly areas: readonly AreaUsage[];
}

/** Between two removals of expired upload link claims by one process (1 min). */
const CLAIM_SWEEP_INTERVAL_MS = 60_000;

/** How a link presented over HTTP fares against its signature and clock. */
export type LinkVerdict = "valid" | "invalid" | "expired";

/**
 * Tenant files: signed links, the file ledger (usage and quota) and the
 * files on disk. Every method takes the tenant it acts for, and nothing
 * reaches a file or record of another.
 */
export class StorageService {
  readonly #options: StorageServiceOptions;
  readonly #transfer: TransferDependencies;
  #claimsSweptAt = 0;

  constructor(options: StorageServiceOptions) {
    this.#options = options;
    this.#transfer = {
      layout: options.layout,
      control: options.control,
      logger: options.logger,
      uploads: new UploadsInFlight(),
    };
  }

  /**
   * A link to upload one file of exactly `size` bytes. Refused early when
   * the file would take the tenant past its quota (QUOTA_EXCEEDED) or past
   * its largest upload (BAD_USER_INPUT); the upload checks the quota again.
   */
  async createUploadLink(tenant: StorageTenant, request: UploadRequest): Promise<SignedLink> {
    const path = parseStoragePath(request.path);
    const contentType = parseContentType(request.contentType);
    const limits = limitsOf(tenant);
    checkUploadSize(limits, request.size);

    const { control } = this.#options;
    const [inUse, existing, collision] = await Promise.all([
      bytesInUse(control, tenant.id),
      findFile(control, tenant.id, request.area, path.text),
      findCollision(control, tenant.id, request.area, path.segments),
    ]);
    if (collision) {
      throw badInput(
        "path",
        `"${collision}" is in the way: a file and a folder cannot share a name.`,
      );
    }
    checkQuota(limits, { inUse, replacing: existing?.bytes ?? 0, adding: request.size });

    return this.#sign(
      {
        method: "PUT",
        area: request.area,
        path: path.text,
        size: request.size,
        sha256: "",
        nonce: randomBytes(16).toString("base64url"),
        contentType,
      },
      tenant,
      { "Content-Type": contentType },
    );
  }

  /**
   * A link to download one file as it is now: once the file is replaced,
   * even by one of the same size, the link answers NOT_FOUND. NOT_FOUND too
   * when the tenant has no such file.
   */
  async createDownloadLink(
    tenant: StorageTenant,
    area: StorageArea,
    pathText: string,
  ): Promise<SignedLink> {
    const path = parseStoragePath(pathText);
    const file = await findFile(this.#options.control, tenant.id, area, path.text);
    if (!file) throw notFound("The file");

    return this.#sign(
      {
        method: "GET",
        area,
        path: path.text,
        size: file.bytes,
        sha256: file.sha256,
        nonce: "",
        contentType: "",
      },
      tenant,
      {},
    );
  }

  /** Up to `take` files of an area in path order, after `afterPath`, under `prefix`. */
  async listFiles(
    tenant: StorageTenant,
    area: StorageArea,
    page: { take: number; afterPath?: string; prefix?: string },
  ): Promise<FileRecord[]> {
    return listFiles(this.#options.control, tenant.id, area, page);
  }

  /** Removes a file and its record; false when there was none. */
  async deleteFile(tenant: StorageTenant, area: StorageArea, pathText: string): Promise<boolean> {
    const path = parseStoragePath(pathText);
    const location = locateFile(this.#options.layout, tenant.storageBucket, tenant.id, area, path);
    const pending: { placement?: Placement } = {};

    try {
      const removed = await withStorageLock(this.#options.control, tenant.id, async (tx) => {
        if (!(await forgetFile(tx, tenant.id, area, path.text))) return false;
        pending.placement = await takeFile(location);
        return true;
      });
      await pending.placement?.settle();

      return removed;
    } catch (error) {
      await pending.placement?.undo();
      if (error instanceof UnsafeStoragePathError) {
        this.#options.logger
          .child({ tenantId: tenant.id })
          .error({ err: error }, "refused an unsafe path");
        throw forbidden("This file cannot be used.");
      }
      throw error;
    }
  }

  /** Bytes and files per area and in all, with the tenant's limits. */
  async usage(tenant: StorageTenant): Promise<StorageUsage> {
    const areas = await usageByArea(this.#options.control, tenant.id);
    const limits = limitsOf(tenant);

    return {
      bytes: areas.reduce((sum, area) => sum + area.bytes, 0),
      files: areas.reduce((sum, area) => sum + area.files, 0),
      quotaBytes: limits.storageBytes,
      maxUploadBytes: limits.maxUploadBytes,
      areas,
    };
  }

  /** Checks a link's signature for `method` against the tenant as it is now, then its expiry. */
  verifyLink(tenant: StorageTenant, method: "GET" | "PUT", link: RequestedLink): LinkVerdict {
    const claims: LinkClaims = {
      method,
      tenantId: tenant.id,
      bucket: tenant.storageBucket,
      area: link.area,
      path: link.path.text,
      size: link.size,
      sha256: link.sha256,
      nonce: link.nonce,
      contentType: link.contentType,
      expires: link.expires,
    };
    if (!this.#options.signer.verify(claims, link.signature)) return "invalid";

    return link.expires * 1000 < Date.now() ? "expired" : "valid";
  }

  /**
   * Stores the body of a verified upload link. Before reading it, the link
   * is claimed and the quota checked with the uploads under way
   * (admitUpload): a used link is refused with UsedUploadLinkError, an
   * upload that does not fit with the others with QUOTA_EXCEEDED, and
   * neither spends the link. Once the body starts to arrive the link is
   * spent, whether the upload then succeeds or fails.
   */
  async receiveUpload(
    tenant: StorageTenant,
    link: RequestedLink,
    body: Readable,
  ): Promise<StoredUpload> {
    await this.#removeExpiredClaims();
    const target = {
      tenantId: tenant.id,
      bucket: tenant.storageBucket,
      area: link.area,
      path: link.path,
      size: link.size,
      contentType: link.contentType,
      limits: limitsOf(tenant),
    };
    const reservation = await admitUpload(this.#transfer, target, link);
    try {
      return await storeUpload(this.#transfer, target, body, reservation);
    } finally {
      // After storeUpload removed what it received: the disk is free again.
      reservation.release();
    }
  }

  /** Opens the file of a verified download link; null when it is gone or changed. */
  async openDownload(tenant: StorageTenant, link: RequestedLink): Promise<OpenDownload | null> {
    return openDownload(
      this.#transfer,
      { tenantId: tenant.id, bucket: tenant.storageBucket, area: link.area, path: link.path },
      link,
    );
  }

  /**
   * Removes the claims of long-expired upload links, at most once a
   * minute per process, on the way into an upload. A failure is logged and
   * leaves them for the next time: they only take room.
   */
  async #removeExpiredClaims(): Promise<void> {
    const now = Date.now();
    if (now - this.#claimsSweptAt < CLAIM_SWEEP_INTERVAL_MS) return;
    this.#claimsSweptAt = now;
    try {
      const removed = await removeExpiredClaims(this.#options.control, now);
      if (removed > 0) {
        this.#options.logger.debug({ removed }, "removed expired upload link claims");
      }
    } catch (err) {
      this.#options.logger.warn({ err }, "could not remove expired upload link claims");
    }
  }

  #sign(
    claims: Omit<LinkClaims, "tenantId" | "bucket" | "expires">,
    tenant: StorageTenant,
    headers: Record<string, string>,
  ): SignedLink {
    const expires = Math.floor(Date.now() / 1000) + this.#options.urlTtlSeconds;
    const full: LinkClaims = {
      ...claims,
      tenantId: tenant.id,
      bucket: tenant.storageBucket,
      expires,
    };
    const signature = this.#options.signer.sign(full);

    return {
      url: linkUrl(full, signature, this.#options.publicUrl),
      method: claims.method,
      expiresAt: new Date(expires * 1000),
      headers,
    };
  }
}
