import http from "node:http";

/** One HTTP answer: status and parsed JSON body. */
export interface HttpAnswer {
  status: number;
  body: unknown;
}

/** Posts one GraphQL document again and again over kept-alive connections. */
export interface GraphQLClient {
  post(): Promise<HttpAnswer>;
  /** Closes the idle connections. */
  close(): void;
}

export interface GraphQLClientOptions {
  /** `http://127.0.0.1:<port>/graphql`. */
  endpoint: string;
  query: string;
  /** Sent as `X-Tenant-ID` and as a bearer token. */
  tenantId: string;
  token: string;
  /** Connections kept open: the concurrency, so no request waits for a socket. */
  maxSockets: number;
  /**
   * Connections shared with other clients (the scale benchmark posts as 1,000 tenants over
   * one set). `maxSockets` is then the agent's own, and `close` leaves it to its owner.
   */
  agent?: http.Agent;
  /**
   * Longest wait for one answer (ms, default 5 minutes, far above the slowest naive request
   * seen), so a request that hangs fails instead of holding the run forever.
   */
  timeoutMs?: number;
}

/**
 * A bare node:http client: one body, built once, and connections reused, so the client costs
 * as little as it can of the CPU it shares with the gateway in this process.
 */
export function createGraphQLClient(options: GraphQLClientOptions): GraphQLClient {
  const timeoutMs = options.timeoutMs ?? 300_000;
  const shared = options.agent;
  const agent = shared ?? new http.Agent({ keepAlive: true, maxSockets: options.maxSockets });
  const payload = Buffer.from(JSON.stringify({ query: options.query }));
  const headers = {
    "content-type": "application/json",
    "content-length": String(payload.length),
    "x-tenant-id": options.tenantId,
    authorization: `Bearer ${options.token}`,
  };

  const post = () =>
    new Promise<HttpAnswer>((resolve, reject) => {
      const request = http.request(options.endpoint, { method: "POST", agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
          } catch {
            reject(
              new Error(
                `HTTP ${res.statusCode} with a body that is not JSON: ${text.slice(0, 200)}`,
              ),
            );
          }
        });
      });
      request.setTimeout(timeoutMs, () => {
        request.destroy(new Error(`No answer within ${timeoutMs} ms.`));
      });
      request.on("error", reject);
      request.end(payload);
    });

  return {
    post,
    close: () => {
      if (!shared) agent.destroy();
    },
  };
}
