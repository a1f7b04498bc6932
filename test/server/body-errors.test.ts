import http from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logging/index.js";
import { createBodyErrorHandler } from "../../src/server/body-errors.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";

interface RawResponse {
  status: number;
  contentType: string | null;
  text: string;
}

async function post(
  url: string,
  body: NonNullable<RequestInit["body"]>,
  headers: Record<string, string> = { "content-type": "application/json" },
): Promise<RawResponse> {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers,
    body,
    ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
  } as RequestInit);

  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    text: await response.text(),
  };
}

/** The one body every refused request gets: a GraphQL error, nothing more. */
function graphQLError(message: string, code = "BAD_USER_INPUT") {
  return { errors: [{ message, extensions: { code } }] };
}

/** A JSON request body of `bytes` bytes, streamed without a length. */
function streamedBody(bytes: number): ReadableStream<Uint8Array> {
  const chunk = new TextEncoder().encode("a".repeat(64 * 1024));
  let sent = 0;
  return new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"query":"{ __typename }","pad":"'));
    },
    pull(controller) {
      if (sent >= bytes) {
        controller.enqueue(new TextEncoder().encode('"}'));
        controller.close();
        return;
      }
      controller.enqueue(chunk);
      sent += chunk.length;
    },
  });
}

const MODES = [
  { mode: "development", options: { env: { NODE_ENV: "development" } } },
  { mode: "production", options: { production: true } },
] as const;

describe.each(MODES)("request bodies the gateway cannot read, in $mode", ({ mode, options }) => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway(`body-errors-${mode}`, options);
  });
  afterAll(() => gw?.stop());

  /** Parses a refusal, checking that it is JSON and shows no internals. */
  function refusal(res: RawResponse): unknown {
    expect(res.contentType).toMatch(/^application\/json/);
    expect(res.text).not.toMatch(/<html|<pre|stacktrace|node_modules|\bat \S+ \(/i);
    return JSON.parse(res.text);
  }

  it("answers malformed JSON with 400 and a BAD_USER_INPUT GraphQL error", async () => {
    const res = await post(gw.url, '{"query":');
    expect(res.status).toBe(400);
    expect(refusal(res)).toEqual(graphQLError("The request body is not valid JSON."));
  });

  it("answers a body that is a bare JSON string with 400 and BAD_USER_INPUT", async () => {
    const res = await post(gw.url, '"{ __typename }"');
    expect(res.status).toBe(400);
    expect(refusal(res)).toEqual(
      graphQLError("The request body must be a JSON object with a `query`."),
    );
  });

  it("answers a body that is JSON null with 400 and BAD_USER_INPUT", async () => {
    const res = await post(gw.url, "null");
    expect(res.status).toBe(400);
    expect(refusal(res)).toEqual(
      graphQLError("The request body must be a JSON object with a `query`."),
    );
  });

  it("answers a body over 1 MB with 413 and a BAD_USER_INPUT error naming the limit", async () => {
    const body = JSON.stringify({ query: "{ __typename }", pad: "a".repeat(1024 * 1024) });
    const res = await post(gw.url, body);
    expect(res.status).toBe(413);
    expect(refusal(res)).toEqual(
      graphQLError("The request body is larger than the limit of 1 MB."),
    );
  });

  it("answers a streamed body that grows past 1 MB the same way", async () => {
    const res = await post(gw.url, streamedBody(2 * 1024 * 1024));
    expect(res.status).toBe(413);
    expect(refusal(res)).toEqual(
      graphQLError("The request body is larger than the limit of 1 MB."),
    );
  });

  it("answers a charset it cannot decode with 400 and BAD_USER_INPUT", async () => {
    const res = await post(gw.url, '{"query":"{ __typename }"}', {
      "content-type": "application/json; charset=koi8-r",
    });
    expect(res.status).toBe(400);
    expect(refusal(res)).toEqual(
      graphQLError(
        "The request body must be JSON in UTF-8, optionally gzip, deflate or br encoded.",
      ),
    );
  });

  it("answers a body whose gzip encoding is broken with 400 and BAD_USER_INPUT", async () => {
    const res = await post(gw.url, '{"query":"{ __typename }"}', {
      "content-type": "application/json",
      "content-encoding": "gzip",
    });
    expect(res.status).toBe(400);
    expect(refusal(res)).toEqual(graphQLError("The request body could not be read."));
  });

  it("still reads a well-formed gzip body", async () => {
    const res = await post(gw.url, gzipSync('{"query":"{ __typename }"}'), {
      "content-type": "application/json",
      "content-encoding": "gzip",
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ data: { __typename: "Query" } });
  });

  it("leaves a JSON array to Apollo Server, which refuses it as a GraphQL error", async () => {
    const res = await post(gw.url, '[{"query":"{ __typename }"}]');
    expect(res.status).toBe(400);
    expect(res.contentType).toMatch(/^application\/json/);
    // Apollo's own errors keep their stack outside production, as the contract allows.
    if (mode === "production") expect(res.text).not.toMatch(/stacktrace/);
    const body = JSON.parse(res.text) as { errors: { message: string; extensions: unknown }[] };
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0]?.message).toBe("Operation batching disabled.");
    expect(body.errors[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT" });
  });
});

describe("errors on the GraphQL route that do not come from the body parser", () => {
  let server: http.Server;
  let url: string;

  beforeAll(async () => {
    const app = express();
    app.post("/graphql", () => {
      throw new Error("select * from secrets failed");
    });
    app.use("/graphql", createBodyErrorHandler({ logger: createLogger({ level: "silent" }) }));
    server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it("answers 500 with a neutral INTERNAL_SERVER_ERROR and no detail of the cause", async () => {
    const res = await post(url, '{"query":"{ __typename }"}');
    expect(res.status).toBe(500);
    expect(res.contentType).toMatch(/^application\/json/);
    expect(JSON.parse(res.text)).toEqual(
      graphQLError(
        "Something went wrong on our side. Try again, or report the time of the request.",
        "INTERNAL_SERVER_ERROR",
      ),
    );
  });
});
