import { randomUUID } from "node:crypto";
import { pipeline } from "node:stream/promises";
import type { Express, Request, Response } from "express";
import { ERROR_CODES, GatewayError, type ErrorCode } from "../errors/index.js";
import { TenantStatus } from "../generated/prisma/enums.js";
import type { FeatureDirectory } from "../features/feature-directory.js";
import { featureDisabledMessage } from "../features/feature-flag.js";
import { runWithLogContext, setLogRequestId, type Logger } from "../logging/index.js";
import {
  checkContent,
  readLink,
  StoragePathConflictError,
  STORAGE_ROUTE,
  UnsafeStoragePathError,
  UploadSizeError,
  UsedUploadLinkError,
  type RequestedLink,
  type StorageService,
} from "../storage/index.js";
import type { TenantRecord, TenantRegistry } from "../tenancy/tenant-registry.js";

export interface StorageRouteDependencies {
  readonly storage: StorageService;
  readonly registry: TenantRegistry;
  /** A link stops working the moment the tenant's `storage` feature is switched off. */
  readonly features: FeatureDirectory;
  readonly logger: Logger;
}

/** A refusal: the HTTP status, one of the contract's codes, and a message for a person. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The feature flag that gates storage, in GraphQL and here. */
const STORAGE_FEATURE = "storage";

const INVALID_LINK = "This link is not valid for this request. Ask for a new one.";

function send(res: Response, refusal: Refusal, requestId?: string): void {
  const extensions = { code: refusal.code, ...(requestId ? { requestId } : {}) };
  res.status(refusal.status).json({ errors: [{ message: refusal.message, extensions }] });
}

/**
 * The link a request presents, its tenant, and whether both hold: any
 * failure is a {@link Refusal}. The query string is split off by hand: a
 * URL parser would resolve `..` and turn `\` into `/` before the path
 * rules could see them.
 */
async function checkLink(
  req: Request,
  method: "GET" | "PUT",
  deps: StorageRouteDependencies,
): Promise<{ tenant: TenantRecord; link: RequestedLink }> {
  const query = req.url.indexOf("?");
  const rawPath = query < 0 ? req.url : req.url.slice(0, query);
  const search = new URLSearchParams(query < 0 ? "" : req.url.slice(query + 1));

  let link: RequestedLink | string;
  try {
    link = readLink(rawPath, search);
  } catch (error) {
    if (error instanceof GatewayError) throw new Refusal(400, error.code, error.message);
    throw error;
  }
  if (link === "bad-encoding") {
    throw new Refusal(400, "BAD_USER_INPUT", "The path is not valid percent-encoded UTF-8.");
  }
  if (typeof link === "string") throw new Refusal(403, "FORBIDDEN", INVALID_LINK);

  // An unknown tenant reads as a bad signature: links confirm nothing.
  const tenant = await deps.registry.get(link.tenantId);
  if (!tenant) throw new Refusal(403, "FORBIDDEN", INVALID_LINK);
  switch (deps.storage.verifyLink(tenant, method, link)) {
    case "valid":
      break;
    case "invalid":
      throw new Refusal(403, "FORBIDDEN", INVALID_LINK);
    case "expired":
      throw new Refusal(403, "FORBIDDEN", "This link has expired. Ask for a new one.");
  }
  switch (tenant.status) {
    case TenantStatus.ACTIVE:
      if (!(await deps.features.isEnabled(tenant, STORAGE_FEATURE))) {
        throw new Refusal(403, "FEATURE_DISABLED", featureDisabledMessage(STORAGE_FEATURE));
      }
      return { tenant, link };
    case TenantStatus.SUSPENDED:
      throw new Refusal(403, "TENANT_SUSPENDED", "This organization's access is suspended.");
    case TenantStatus.PROVISIONING:
      throw new Refusal(403, "FORBIDDEN", INVALID_LINK);
    default: {
      const unknown: never = tenant.status;
      throw new Error(`unhandled tenant status ${String(unknown)}`);
    }
  }
}

/**
 * Receives a PUT: the body must have exactly the signed size. A link that
 * was used already, or an upload that does not fit the quota with the
 * others under way, is refused before a byte of the body is read.
 */
async function upload(
  req: Request,
  res: Response,
  deps: StorageRouteDependencies,
  { tenant, link }: { tenant: TenantRecord; link: RequestedLink },
): Promise<void> {
  // A declared length is checked before a byte is read.
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) !== link.size) {
    const direction = Number(declared) > link.size ? "larger" : "smaller";
    throw new UploadSizeError(direction, link.size);
  }

  const stored = await deps.storage.receiveUpload(tenant, link, req);
  const { area, path, bytes, sha256, contentType } = stored.file;
  res.status(stored.replaced ? 200 : 201).json({ area, path, bytes, sha256, contentType });
}

/** Serves a GET or HEAD: the file as an attachment, never rendered in place. */
async function download(
  req: Request,
  res: Response,
  deps: StorageRouteDependencies,
  { tenant, link }: { tenant: TenantRecord; link: RequestedLink },
): Promise<void> {
  const opened = await deps.storage.openDownload(tenant, link);
  if (!opened) throw new Refusal(404, "NOT_FOUND", "The file was not found.");
  const { handle, file } = opened;
  const name = link.path.segments.at(-1) ?? "file";

  // setHeader, not express's set(), which would add a charset to text types.
  res.statusCode = 200;
  const headers = {
    "Content-Type": file.contentType,
    "Content-Length": String(file.bytes),
    // Names are ASCII letters, digits and `._-()+ `: nothing to escape.
    "Content-Disposition": `attachment; filename="${name}"`,
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
    ETag: `"${file.sha256}"`,
  };
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  if (req.method === "HEAD") {
    await handle.close();
    res.end();
    return;
  }
  // Checked against the linked hash on the way: a file replaced while it
  // was being opened is cut off before its last byte.
  await pipeline(handle.createReadStream(), checkContent(file.sha256), res);
}

/** What an error that is not a Refusal tells the client. */
function refusalFor(error: unknown, logger: Logger): Refusal | null {
  if (error instanceof Refusal) return error;
  if (error instanceof UploadSizeError) {
    return new Refusal(error.direction === "larger" ? 413 : 400, "BAD_USER_INPUT", error.message);
  }
  if (error instanceof UsedUploadLinkError) return new Refusal(403, "FORBIDDEN", error.message);
  if (error instanceof GatewayError) {
    return new Refusal(ERROR_CODES[error.code].status, error.code, error.message);
  }
  if (error instanceof StoragePathConflictError) {
    return new Refusal(409, "BAD_USER_INPUT", "A file and a folder cannot share a name.");
  }
  if (error instanceof UnsafeStoragePathError) {
    logger.error({ err: error }, "refused a storage path that leads out of its area");
    return new Refusal(403, "FORBIDDEN", "This file cannot be used.");
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ERR_STREAM_PREMATURE_CLOSE" || code === "ECONNRESET") {
    logger.info({ code }, "the client went away during a transfer");
    return new Refusal(400, "BAD_USER_INPUT", "The request ended before its body did.");
  }

  return null;
}

/**
 * Mounts `PUT /storage/…` (upload) and `GET`/`HEAD /storage/…` (download)
 * for signed links (see StorageService). Every refusal is JSON with one of
 * the contract's codes.
 */
export function mountStorageRoutes(app: Express, deps: StorageRouteDependencies): void {
  // In a log context of its own: storage lines written below name the request.
  app.use(STORAGE_ROUTE, (req, res) => runWithLogContext(() => serveLink(req, res, deps)));
}

/** One storage request: checks the signed link, then uploads or downloads. */
async function serveLink(
  req: Request,
  res: Response,
  deps: StorageRouteDependencies,
): Promise<void> {
  const requestId = randomUUID();
  res.setHeader("x-request-id", requestId);
  setLogRequestId(requestId);
  let logger = deps.logger.child({ requestId, route: "storage" });
  try {
    const method = req.method === "HEAD" ? "GET" : req.method;
    if (method !== "GET" && method !== "PUT") {
      res.setHeader("Allow", "GET, HEAD, PUT");
      throw new Refusal(405, "BAD_USER_INPUT", "Storage links take GET, HEAD or PUT.");
    }
    const checked = await checkLink(req, method, deps);
    logger = logger.child({ tenantId: checked.tenant.id });
    if (method === "PUT") await upload(req, res, deps, checked);
    else await download(req, res, deps, checked);
  } catch (error) {
    // Part of a download is out: all that is left is to drop the socket.
    if (res.headersSent) {
      logger.warn({ err: error }, "storage transfer failed part-way");
      res.destroy();
      return;
    }
    // A body the handler did not read would be taken for the next request.
    if (req.method === "PUT" && !req.complete) res.setHeader("Connection", "close");
    const refusal = refusalFor(error, logger);
    if (refusal) {
      logger.info({ code: refusal.code, status: refusal.status }, refusal.message);
      send(res, refusal);
      return;
    }
    logger.error({ err: error }, "storage request failed");
    send(
      res,
      new Refusal(500, "INTERNAL_SERVER_ERROR", "Something went wrong on our side."),
      requestId,
    );
  }
}
