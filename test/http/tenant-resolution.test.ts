import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Isolation } from "../../src/generated/prisma/enums.js";
import { provisionTenant } from "../../src/lifecycle/provision.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import {
  startTestGateway,
  uniqueTenantId,
  type GraphQLResponse,
  type TestGateway,
} from "../support/gateway.js";

/** How one request names its tenant; absent fields are not sent. */
interface Naming {
  header?: string;
  /** The whole Host header; without it Node sends `127.0.0.1:<port>`, which names no tenant. */
  host?: string;
  token?: string;
}

interface Answer {
  tenant: { id: string } | null;
  me: { id: string } | null;
}

const WHO = "{ tenant { id } me { id } }";

describe("which tenant a request acts on", () => {
  let gw: TestGateway;
  let port: number;
  let a: TenantFixture;
  let b: TenantFixture;
  let suspended: { id: string; adminId: string };
  let staff: string;

  /**
   * Posts one operation with node:http: fetch does not let a caller choose
   * the Host header, and these tests need to.
   */
  function post<T = Answer>(
    naming: Naming,
    query = WHO,
    variables?: Record<string, unknown>,
  ): Promise<GraphQLResponse<T>> {
    const body = JSON.stringify({ query, variables });
    const headers: http.OutgoingHttpHeaders = {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      ...(naming.host === undefined ? {} : { host: naming.host }),
      ...(naming.header === undefined ? {} : { "x-tenant-id": naming.header }),
      ...(naming.token === undefined ? {} : { authorization: `Bearer ${naming.token}` }),
    };

    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: "127.0.0.1", port, path: "/graphql", method: "POST", headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            resolve({
              status: res.statusCode ?? 0,
              body: JSON.parse(text) as GraphQLResponse<T>["body"],
            });
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  const hostOf = (tenantId: string) => `${tenantId}.localhost:4000`;

  /** The request went through and acted on `tenantId`, as `userId` if given. */
  function expectActsOn(
    res: GraphQLResponse<Answer>,
    tenantId: string,
    userId: string | null = null,
  ) {
    expect(res.body.errors).toBeUndefined();
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({
      tenant: { id: tenantId },
      me: userId === null ? null : { id: userId },
    });
  }

  /** The whole request was refused with `code` and its status, and nothing was read. */
  function expectRefused(res: GraphQLResponse<unknown>, code: string, status: number) {
    expect(res.body.errors?.map((e) => e.extensions?.code)).toEqual([code]);
    expect(res.body.data).toBeUndefined();
    expect(res.status).toBe(status);
  }

  beforeAll(async () => {
    gw = await startTestGateway("tenant-resolution");
    port = Number(new URL(gw.url).port);
    [a, b] = await Promise.all([
      seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("res-a")),
      seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("res-b")),
    ]);
    const suspendedId = uniqueTenantId("res-s");
    const provisioned = await provisionTenant(
      gw.gateway.lifecycle,
      {
        id: suspendedId,
        name: "Paused",
        isolation: Isolation.SHARED,
        adminEmail: "admin@paused.test",
      },
      "test:fixture",
    );
    suspended = { id: suspendedId, adminId: provisioned.adminUser.id };
    staff = await gw.globalAdminToken();
  });
  afterAll(() => gw?.stop());

  describe("one source alone", () => {
    it("takes the tenant from the X-Tenant-ID header", async () => {
      expectActsOn(await post({ header: a.tenantId }), a.tenantId);
    });

    it("takes the tenant from the host name", async () => {
      expectActsOn(await post({ host: hostOf(a.tenantId) }), a.tenantId);
    });

    it("reads the host name without regard to case, port or a trailing dot", async () => {
      expectActsOn(await post({ host: `${a.tenantId.toUpperCase()}.LocalHost` }), a.tenantId);
      expectActsOn(await post({ host: `${a.tenantId}.localhost.:8080` }), a.tenantId);
    });

    it("takes the tenant from the token's tid", async () => {
      const token = await gw.tokenFor(a.tenantId, a.users.member);

      expectActsOn(await post({ token }), a.tenantId, a.users.member);
    });
  });

  describe("sources that agree", () => {
    it("accepts header and host", async () => {
      expectActsOn(await post({ header: a.tenantId, host: hostOf(a.tenantId) }), a.tenantId);
    });

    it("accepts header and token", async () => {
      const token = await gw.tokenFor(a.tenantId, a.users.member);

      expectActsOn(await post({ header: a.tenantId, token }), a.tenantId, a.users.member);
    });

    it("accepts host and token", async () => {
      const token = await gw.tokenFor(a.tenantId, a.users.member);

      expectActsOn(await post({ host: hostOf(a.tenantId), token }), a.tenantId, a.users.member);
    });

    it("accepts header, host and token together", async () => {
      const token = await gw.tokenFor(a.tenantId, a.users.member);
      const res = await post({ header: a.tenantId, host: hostOf(a.tenantId), token });

      expectActsOn(res, a.tenantId, a.users.member);
    });
  });

  describe("sources that disagree", () => {
    it("refuses header and host naming different tenants with TENANT_MISMATCH", async () => {
      expectRefused(
        await post({ header: a.tenantId, host: hostOf(b.tenantId) }),
        "TENANT_MISMATCH",
        403,
      );
    });

    it("refuses a header naming another tenant than the token with TENANT_MISMATCH", async () => {
      const token = await gw.tokenFor(b.tenantId, b.users.admin);

      expectRefused(await post({ header: a.tenantId, token }), "TENANT_MISMATCH", 403);
    });

    it("refuses a host naming another tenant than the token with TENANT_MISMATCH", async () => {
      const token = await gw.tokenFor(b.tenantId, b.users.admin);

      expectRefused(await post({ host: hostOf(a.tenantId), token }), "TENANT_MISMATCH", 403);
    });

    it("refuses a token that disagrees with a header and host that agree", async () => {
      const token = await gw.tokenFor(b.tenantId, b.users.admin);
      const res = await post({ header: a.tenantId, host: hostOf(a.tenantId), token });

      expectRefused(res, "TENANT_MISMATCH", 403);
    });
  });

  describe("tenants that cannot be served", () => {
    it.each(["ACME", "a", "acme_corp", "-acme", "acme-", " ", "acme, other"])(
      "refuses the malformed header %j with TENANT_NOT_FOUND without echoing it",
      async (header) => {
        const res = await post({ header });

        expectRefused(res, "TENANT_NOT_FOUND", 404);
        if (header.trim().length > 1)
          expect(res.body.errors?.[0]?.message).not.toContain(header.trim());
      },
    );

    it("refuses a malformed tenant label in the host with TENANT_NOT_FOUND", async () => {
      expectRefused(await post({ host: "acme_corp.localhost:4000" }), "TENANT_NOT_FOUND", 404);
    });

    it("refuses a well-formed tenant that does not exist, by header or host", async () => {
      const ghost = uniqueTenantId("ghost");

      expectRefused(await post({ header: ghost }), "TENANT_NOT_FOUND", 404);
      expectRefused(await post({ host: hostOf(ghost) }), "TENANT_NOT_FOUND", 404);
    });

    it("refuses a global admin naming a tenant that does not exist", async () => {
      expectRefused(
        await post({ header: uniqueTenantId("ghost"), token: staff }),
        "TENANT_NOT_FOUND",
        404,
      );
    });
  });

  describe("a suspended tenant", () => {
    const suspend = (mutation: "suspendTenant" | "resumeTenant") =>
      post<Record<string, { status: string }>>(
        { token: staff },
        `mutation($id: ID!) { ${mutation}(id: $id) { status } }`,
        { id: suspended.id },
      );

    it("refuses its users, signed in or not, with TENANT_SUSPENDED while staff still read it", async () => {
      const userToken = await gw.tokenFor(suspended.id, suspended.adminId);
      expectActsOn(await post({ token: userToken }), suspended.id, suspended.adminId);

      const paused = await suspend("suspendTenant");
      expect(paused.body.data).toEqual({ suspendTenant: { status: "SUSPENDED" } });

      expectRefused(await post({ token: userToken }), "TENANT_SUSPENDED", 403);
      expectRefused(await post({ header: suspended.id }), "TENANT_SUSPENDED", 403);
      expectRefused(await post({ host: hostOf(suspended.id) }), "TENANT_SUSPENDED", 403);

      const staffView = await post<{
        tenant: { id: string };
        users: { edges: { node: { id: string } }[] };
      }>(
        { header: suspended.id, token: staff },
        "{ tenant { id } users { edges { node { id } } } }",
      );
      expect(staffView.body.errors).toBeUndefined();
      expect(staffView.body.data?.tenant.id).toBe(suspended.id);
      expect(staffView.body.data?.users.edges.map((e) => e.node.id)).toEqual([suspended.adminId]);

      const resumed = await suspend("resumeTenant");
      expect(resumed.body.data).toEqual({ resumeTenant: { status: "ACTIVE" } });

      expectActsOn(await post({ token: userToken }), suspended.id, suspended.adminId);
      expectActsOn(await post({ header: suspended.id }), suspended.id);
    });
  });

  describe("a global admin", () => {
    const USERS = "{ tenant { id } users(first: 50) { edges { node { id } } } }";
    type Users = { tenant: { id: string }; users: { edges: { node: { id: string } }[] } };
    const ids = (res: GraphQLResponse<Users>) =>
      res.body.data?.users.edges.map((e) => e.node.id).sort();

    it("acts on whichever tenant the header names", async () => {
      const inA = await post<Users>({ header: a.tenantId, token: staff }, USERS);
      const inB = await post<Users>({ header: b.tenantId, token: staff }, USERS);

      expect(inA.body.errors).toBeUndefined();
      expect(inB.body.errors).toBeUndefined();
      expect(inA.body.data?.tenant.id).toBe(a.tenantId);
      expect(inB.body.data?.tenant.id).toBe(b.tenantId);
      expect(ids(inA)).toEqual(Object.values(a.users).sort());
      expect(ids(inB)).toEqual(Object.values(b.users).sort());
    });

    it("acts on whichever tenant the host names", async () => {
      const res = await post<Users>({ host: hostOf(b.tenantId), token: staff }, USERS);

      expect(res.body.errors).toBeUndefined();
      expect(ids(res)).toEqual(Object.values(b.users).sort());
    });

    it("gets TENANT_REQUIRED on a tenant field when naming no tenant", async () => {
      const res = await post({ token: staff }, "{ users { edges { node { id } } } }");

      expect(res.body.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([
        [["users"], "TENANT_REQUIRED"],
      ]);
    });
  });

  describe("a request naming no tenant at all", () => {
    it("gets TENANT_REQUIRED on a tenant field", async () => {
      const res = await post({}, "{ tenant { id } }");

      expect(res.body.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([
        [["tenant"], "TENANT_REQUIRED"],
      ]);
      expect(res.body.data ?? null).toBeNull();
    });

    it("does not treat a bare base domain or a deeper name as a tenant", async () => {
      for (const host of [
        "localhost:4000",
        `x.${a.tenantId}.localhost`,
        `${a.tenantId}.example.com`,
      ]) {
        const res = await post({ host }, "{ tenant { id } }");

        expect(res.body.errors?.map((e) => e.extensions?.code)).toEqual(["TENANT_REQUIRED"]);
      }
    });
  });

  describe("a token whose user is not in the named tenant", () => {
    it("is refused with UNAUTHENTICATED when the user belongs to another tenant", async () => {
      const token = await gw.tokenFor(a.tenantId, b.users.admin);

      expectRefused(await post({ token }), "UNAUTHENTICATED", 401);
      expectRefused(await post({ header: a.tenantId, token }), "UNAUTHENTICATED", 401);
    });

    it("is refused with UNAUTHENTICATED when the user does not exist", async () => {
      const token = await gw.tokenFor(a.tenantId, "no-such-user");

      expectRefused(await post({ token }), "UNAUTHENTICATED", 401);
    });
  });
});
