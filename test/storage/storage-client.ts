import http from "node:http";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { TestGateway } from "../support/gateway.js";

/** What createUploadUrl and createDownloadUrl answer. */
export interface SignedUrl {
  url: string;
  method: string;
  expiresAt: string;
  headers: Record<string, string>;
}

/** A GraphQL answer reduced to what storage tests look at. */
export interface Answer<T> {
  value: T | null;
  codes: unknown[];
  errors: { message: string; extensions?: Record<string, unknown> }[];
}

/** Who calls: the tenant named and the user's token. */
export interface Caller {
  tenant: string;
  token: string;
}

const SIGNED_URL = "url method expiresAt headers";

async function ask<T>(
  gw: TestGateway,
  caller: Caller,
  field: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<Answer<T>> {
  const response = await gw.request<Record<string, T>>(query, { ...caller, variables });
  const errors = response.body.errors ?? [];

  return {
    value: response.body.data?.[field] ?? null,
    codes: errors.map((error) => error.extensions?.code),
    errors,
  };
}

export function createUploadUrl(
  gw: TestGateway,
  caller: Caller,
  input: { area: string; path: string; size: number; contentType?: string },
): Promise<Answer<SignedUrl>> {
  return ask(
    gw,
    caller,
    "createUploadUrl",
    `mutation Upload($input: CreateUploadUrlInput!) { createUploadUrl(input: $input) { ${SIGNED_URL} } }`,
    { input },
  );
}

export function createDownloadUrl(
  gw: TestGateway,
  caller: Caller,
  area: string,
  path: string,
): Promise<Answer<SignedUrl>> {
  return ask(
    gw,
    caller,
    "createDownloadUrl",
    `mutation Download($area: StorageArea!, $path: String!) { createDownloadUrl(area: $area, path: $path) { ${SIGNED_URL} } }`,
    { area, path },
  );
}

export function deleteFile(
  gw: TestGateway,
  caller: Caller,
  area: string,
  path: string,
): Promise<Answer<boolean>> {
  return ask(
    gw,
    caller,
    "deleteFile",
    `mutation Delete($area: StorageArea!, $path: String!) { deleteFile(area: $area, path: $path) }`,
    { area, path },
  );
}

export interface Usage {
  bytes: number;
  files: number;
  quotaBytes: number;
  freeBytes: number;
  maxUploadBytes: number;
  areas: { area: string; bytes: number; files: number }[];
}

export function storageUsage(gw: TestGateway, caller: Caller): Promise<Answer<Usage>> {
  return ask(
    gw,
    caller,
    "storageUsage",
    "{ storageUsage { bytes files quotaBytes freeBytes maxUploadBytes areas { area bytes files } } }",
    {},
  );
}

export interface FilePage {
  edges: {
    cursor: string;
    node: { path: string; bytes: number; contentType: string; sha256: string };
  }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export function listFiles(
  gw: TestGateway,
  caller: Caller,
  variables: { area: string; first?: number; after?: string; prefix?: string },
): Promise<Answer<FilePage>> {
  return ask(
    gw,
    caller,
    "files",
    `query Files($area: StorageArea!, $first: Int, $after: String, $prefix: String) {
      files(area: $area, first: $first, after: $after, prefix: $prefix) {
        edges { cursor node { path bytes contentType sha256 } }
        pageInfo { hasNextPage endCursor }
      }
    }`,
    variables,
  );
}

/** The JSON answer of a storage route: what it stored, or the error. */
export interface TransferAnswer {
  status: number;
  headers: Headers;
  body: Buffer;
  json: {
    path?: string;
    bytes?: number;
    sha256?: string;
    contentType?: string;
    errors?: { message: string; extensions: { code: string } }[];
  } | null;
}

async function toAnswer(response: Response): Promise<TransferAnswer> {
  const body = Buffer.from(await response.arrayBuffer());
  const isJson = response.headers.get("content-type")?.startsWith("application/json") ?? false;

  return {
    status: response.status,
    headers: response.headers,
    body,
    json: isJson ? JSON.parse(body.toString("utf8")) : null,
  };
}

/** Sends a signed URL's request with `body` (a PUT) or without (a GET). */
export async function transfer(
  gw: TestGateway,
  url: string,
  method: string,
  body?: Buffer,
  headers: Record<string, string> = {},
): Promise<TransferAnswer> {
  const response = await fetch(new URL(url, gw.url), {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
  });

  return toAnswer(response);
}

/** Uploads `body` through a fresh upload URL; the URL answer's errors pass through. */
export async function upload(
  gw: TestGateway,
  caller: Caller,
  area: string,
  path: string,
  body: Buffer,
  contentType?: string,
): Promise<{ link: Answer<SignedUrl>; put: TransferAnswer | null }> {
  const link = await createUploadUrl(gw, caller, {
    area,
    path,
    size: body.length,
    ...(contentType ? { contentType } : {}),
  });
  if (!link.value) return { link, put: null };

  return { link, put: await transfer(gw, link.value.url, "PUT", body, link.value.headers) };
}

/**
 * Sends a request with the path exactly as written: fetch would resolve
 * `..` and `%2e%2e` and turn `\` into `/` before the gateway saw them.
 */
export function rawRequest(
  gw: TestGateway,
  method: string,
  path: string,
  body?: Buffer,
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(gw.url);

  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: hostname === "localhost" ? "127.0.0.1" : hostname, port, method, path },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

/** An upload whose body is sent in parts, at the test's pace. */
export interface OpenUpload {
  /** The gateway's answer, which may come before the body is whole. */
  readonly answer: Promise<{ status: number; json: TransferAnswer["json"] }>;
  /** Sends the rest of the body and ends the request. */
  finish(rest: Buffer): void;
}

/**
 * Starts a PUT to a signed URL declaring `size` bytes and sends only
 * `first` of them: the rest waits for `finish`, so a test can see what the
 * gateway does before a body is complete.
 */
export function startUpload(
  gw: TestGateway,
  url: string,
  size: number,
  first: Buffer,
  headers: Record<string, string> = {},
): OpenUpload {
  const target = new URL(url, gw.url);
  const request = http.request({
    host: target.hostname === "localhost" ? "127.0.0.1" : target.hostname,
    port: target.port,
    method: "PUT",
    path: `${target.pathname}${target.search}`,
    headers: { ...headers, "content-length": String(size) },
  });
  const answer = new Promise<{ status: number; json: TransferAnswer["json"] }>(
    (resolve, reject) => {
      request.on("response", (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: response.statusCode ?? 0, json: text ? JSON.parse(text) : null });
        });
      });
      // After an early answer the gateway closes the connection under the
      // unsent rest; that is expected, and only an error before it counts.
      request.on("error", reject);
    },
  );
  request.flushHeaders();
  if (first.length > 0) request.write(first);

  return { answer, finish: (rest) => request.end(rest) };
}

/** Every file under `dir`, relative to it, sorted (empty when it does not exist). */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);

  return entries
    .filter((entry) => entry.isFile() || entry.isSymbolicLink())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

/** The tenant's directory: `{root}/{bucket}/{tenantId}`. */
export function tenantDirectory(gw: TestGateway, bucket: string, tenantId: string): string {
  return join(gw.gateway.lifecycle.storage.root, bucket, tenantId);
}

/** `count` bytes of a repeating pattern, different per `seed`. */
export function bytesOf(count: number, seed = 0): Buffer {
  return Buffer.from(Array.from({ length: count }, (_, n) => (n * 31 + seed) % 251));
}
