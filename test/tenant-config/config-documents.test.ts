import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import {
  codesOf,
  startTestGateway,
  uniqueTenantId,
  type GraphQLResponse,
  type TestGateway,
} from "../support/gateway.js";

type Data = Record<string, unknown>;

const UPDATE = `mutation ($input: UpdateTenantConfigInput!) {
  updateTenantConfig(input: $input) { id name branding plan modules }
}`;
const CONFIG = `{ tenantConfig {
  version updatedBy settings secretNames branding limits effectiveLimits billing
} }`;
const VERSIONS = `query ($first: Int, $before: Int) {
  tenantConfigVersions(first: $first, before: $before) {
    version action actorId restoredFrom createdAt settings branding limits billing
  }
}`;
const RESTORE = `mutation ($version: Int!, $documents: [ConfigDocument!]) {
  restoreTenantConfig(version: $version, documents: $documents) {
    version settings secretNames branding limits billing
  }
}`;

describe("tenant configuration documents", () => {
  let gw: TestGateway;
  let tenant: TenantFixture;
  let adminToken: string;
  let memberToken: string;
  let staffToken: string;

  beforeAll(async () => {
    gw = await startTestGateway("config-documents");
    tenant = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("cfg"));
    adminToken = await gw.tokenFor(tenant.tenantId, tenant.users.admin);
    memberToken = await gw.tokenFor(tenant.tenantId, tenant.users.member);
    staffToken = await gw.globalAdminToken();
  });
  afterAll(() => gw?.stop());

  const send = <T = Data>(query: string, token: string, variables?: Data) =>
    gw.request<T>(query, { tenant: tenant.tenantId, token, variables });
  const update = (token: string, input: Data) => send(UPDATE, token, { input });
  const stored = () =>
    gw.gateway.database.control.tenantConfig.findUniqueOrThrow({
      where: { tenantId: tenant.tenantId },
    });
  async function config(token = adminToken): Promise<Data> {
    const res = await send<{ tenantConfig: Data }>(CONFIG, token);
    expect(res.body.errors).toBeUndefined();
    return res.body.data?.tenantConfig ?? {};
  }
  function refusal(res: GraphQLResponse): { code: unknown; field: unknown; message?: string } {
    const error = res.body.errors?.[0];
    return {
      code: error?.extensions?.code,
      field: error?.extensions?.field,
      message: error?.message,
    };
  }

  describe("validation", () => {
    it.each([
      [
        "an unknown branding key",
        { branding: { primaryColour: "#123456" } },
        "branding.primaryColour",
      ],
      ["a colour that is not hex", { branding: { primaryColor: "red" } }, "branding.primaryColor"],
      [
        "a logo over plain http",
        { branding: { logoUrl: "http://cdn.test/logo.png" } },
        "branding.logoUrl",
      ],
      ["a javascript: logo", { branding: { logoUrl: "javascript:alert(1)" } }, "branding.logoUrl"],
      [
        "a support address that is no email",
        { branding: { supportEmail: "help" } },
        "branding.supportEmail",
      ],
      [
        "a display name with a bidi override",
        { branding: { displayName: "evil\u202eexe.pdf" } },
        "branding.displayName",
      ],
      [
        "a webhook to an IP address",
        { settings: { webhooks: [{ url: "https://169.254.169.254/latest", events: [] }] } },
        "settings.webhooks.0.url",
      ],
      [
        "a webhook to localhost",
        { settings: { webhooks: [{ url: "https://localhost/hook", events: [] }] } },
        "settings.webhooks.0.url",
      ],
      ["an unknown theme", { branding: { theme: "neon" } }, "branding.theme"],
      ["an unknown time zone", { settings: { timezone: "Mars/Olympus" } }, "settings.timezone"],
      ["a malformed locale", { settings: { locale: "english" } }, "settings.locale"],
      [
        "a webhook over http",
        { settings: { webhooks: [{ url: "http://x.test", events: [] }] } },
        "settings.webhooks.0.url",
      ],
      [
        "a digest that is not a choice",
        { settings: { notifications: { digest: "hourly" } } },
        "settings.notifications.digest",
      ],
      [
        "a secret with a bad name",
        { settings: { secrets: { "bad name": "x" } } },
        "settings.secrets.bad name",
      ],
      [
        "a secret that is not text",
        { settings: { secrets: { API_KEY: 42 } } },
        "settings.secrets.API_KEY",
      ],
    ])("refuses %s naming the field, and saves nothing", async (_, input, field) => {
      const before = await stored();

      const res = await update(adminToken, input);

      expect(refusal(res)).toMatchObject({ code: "BAD_USER_INPUT", field });
      expect(refusal(res).message).toContain(field);
      expect(await stored()).toEqual(before);
    });

    it.each([
      ["a limit below 1", { limits: { requestsPerMinute: 0 } }, "limits.requestsPerMinute"],
      [
        "a fractional limit",
        { limits: { userRequestsPerMinute: 2.5 } },
        "limits.userRequestsPerMinute",
      ],
      ["an unknown limit", { limits: { requestsPerHour: 10 } }, "limits.requestsPerHour"],
      ["an unknown plan", { billing: { plan: "platinum" } }, "billing.plan"],
      [
        "a module no plan has",
        { billing: { extraModules: ["crypto-miner"] } },
        "billing.extraModules.0",
      ],
      [
        "a country that is not a code",
        { billing: { details: { address: { line1: "1 Main St", city: "X", country: "France" } } } },
        "billing.details.address.country",
      ],
    ])("refuses %s from staff naming the field, and saves nothing", async (_, input, field) => {
      const before = await stored();

      const res = await update(staffToken, input);

      expect(refusal(res)).toMatchObject({ code: "BAD_USER_INPUT", field });
      expect(await stored()).toEqual(before);
    });

    it("checks every document before writing any: a bad billing keeps good branding out", async () => {
      const before = await stored();

      const res = await update(staffToken, {
        branding: { primaryColor: "#112233" },
        billing: { plan: "nope" },
      });

      expect(refusal(res)).toMatchObject({ code: "BAD_USER_INPUT", field: "billing.plan" });
      expect(await stored()).toEqual(before);
    });
  });

  it.each([
    ["a number for a text", { settings: { locale: 5 } }, "settings.locale must be a string."],
    [
      "a fraction for a count",
      { settings: { custom: {} }, branding: { theme: 1.5 } },
      'branding.theme must be one of "light", "dark", "system".',
    ],
    [
      "a secret name with a space",
      { settings: { secrets: { "bad name": "x" } } },
      "settings.secrets.bad name has a name that is not allowed: secret names are letters, digits, _ and -.",
    ],
  ])("says what is wrong with %s", async (_, input, message) => {
    const res = await update(adminToken, input);

    expect(refusal(res)).toMatchObject({ code: "BAD_USER_INPUT", message });
  });

  it("tells staff a limit's own maximum, not the largest safe integer", async () => {
    const res = await update(staffToken, { limits: { requestsPerMinute: 1e300 } });

    expect(refusal(res)).toMatchObject({
      field: "limits.requestsPerMinute",
      message: "limits.requestsPerMinute must be at most 1000000.",
    });
  });

  it("keeps the name when the documents sent with it are refused", async () => {
    await update(adminToken, { settings: { secrets: { FIRST: "1" } } });
    const before = await gw.gateway.database.control.tenant.findUniqueOrThrow({
      where: { id: tenant.tenantId },
    });
    const tooMany = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`K${i}`, "v"]));

    const res = await update(adminToken, {
      name: "Renamed by a refused update",
      settings: { secrets: tooMany },
    });

    expect(refusal(res)).toMatchObject({ code: "BAD_USER_INPUT", field: "settings.secrets" });
    const after = await gw.gateway.database.control.tenant.findUniqueOrThrow({
      where: { id: tenant.tenantId },
    });
    expect(after.name).toBe(before.name);
    await update(adminToken, { settings: { secrets: { FIRST: null } } });
  });

  it("saves a name sent with documents together with them", async () => {
    const res = await update(adminToken, { name: "Renamed", branding: { displayName: "Renamed" } });

    expect(res.body.errors).toBeUndefined();
    expect((res.body.data as { updateTenantConfig: Data }).updateTenantConfig.name).toBe("Renamed");
  });

  describe("who edits what", () => {
    it("lets a tenant admin edit settings and branding", async () => {
      const res = await update(adminToken, {
        settings: { timezone: "Europe/Paris", locale: "fr-FR" },
        branding: { displayName: "Acme FR", primaryColor: "#0a0b0c" },
      });

      expect(res.body.errors).toBeUndefined();
      const now = await config();
      expect(now.settings).toEqual({ timezone: "Europe/Paris", locale: "fr-FR" });
      expect(now.branding).toEqual({ displayName: "Acme FR", primaryColor: "#0a0b0c" });
      expect(now.updatedBy).toBe(tenant.users.admin);
    });

    it.each([
      ["limits", { limits: { requestsPerMinute: 5 } }],
      ["billing", { billing: { plan: "enterprise" } }],
    ])("refuses %s from a tenant admin with FORBIDDEN and saves nothing", async (_, input) => {
      const before = await stored();

      const res = await update(adminToken, input);

      expect(codesOf(res)).toEqual(["FORBIDDEN"]);
      expect(await stored()).toEqual(before);
    });

    it("refuses the configuration to a member, who holds no config:write", async () => {
      const res = await send(CONFIG, memberToken);

      expect(codesOf(res)).toEqual(["FORBIDDEN"]);
    });

    it("lets staff change the plan, which changes the tenant's modules and limits", async () => {
      const res = await update(staffToken, { billing: { plan: "growth", status: "active" } });

      expect(res.body.errors).toBeUndefined();
      const tenantView = (res.body.data as { updateTenantConfig: Data }).updateTenantConfig;
      expect(tenantView.plan).toBe("growth");
      expect(tenantView.modules).toContain("analytics");
      const now = await config(staffToken);
      expect(now.effectiveLimits).toMatchObject({ requestsPerMinute: 3_000 });
    });

    it("lays the tenant's own limits over its plan's", async () => {
      const res = await update(staffToken, { limits: { requestsPerMinute: 4_200 } });

      expect(res.body.errors).toBeUndefined();
      const now = await config(staffToken);
      expect(now.limits).toEqual({ requestsPerMinute: 4_200 });
      expect(now.effectiveLimits).toMatchObject({
        requestsPerMinute: 4_200,
        userRequestsPerMinute: 600,
      });
    });
  });

  describe("sealed parts", () => {
    it("keeps secrets write-only, merged by name, removed with null", async () => {
      await update(adminToken, { settings: { secrets: { API_KEY: "sk-one", HOOK: "wh-two" } } });
      expect((await config()).secretNames).toEqual(["API_KEY", "HOOK"]);

      // Settings without secrets keep them; a null removes one.
      await update(adminToken, { settings: { locale: "de" } });
      expect((await config()).secretNames).toEqual(["API_KEY", "HOOK"]);
      await update(adminToken, { settings: { secrets: { HOOK: null, OTHER: "o-3" } } });

      const now = await config();
      expect(now.secretNames).toEqual(["API_KEY", "OTHER"]);
      expect(JSON.stringify(now)).not.toContain("sk-one");
      const row = await stored();
      expect(JSON.stringify(row)).not.toContain("sk-one");
      expect(row.sealed).toMatch(/^e1\./);
    });

    it("shows billing details to those who may see billing, sealed at rest", async () => {
      const details = { companyName: "Acme Unique Holdings", taxId: "FR-TAX-998877" };
      const res = await update(staffToken, { billing: { plan: "growth", details } });
      expect(res.body.errors).toBeUndefined();

      expect((await config(staffToken)).billing).toEqual({ plan: "growth", details });
      const row = await stored();
      expect(JSON.stringify(row)).not.toContain("FR-TAX-998877");
      // Billing without details keeps them.
      await update(staffToken, { billing: { plan: "growth", currency: "EUR" } });
      expect((await config(staffToken)).billing).toEqual({
        plan: "growth",
        currency: "EUR",
        details,
      });
    });

    it("leaves no secret or billing detail in clear in a dump of the database", async () => {
      await update(adminToken, { settings: { secrets: { DUMP_PROBE: "needle-secret-5f2a" } } });
      await update(staffToken, {
        billing: { plan: "starter", details: { paymentReference: "needle-billing-9c1d" } },
      });

      const { stdout } = await promisify(execFile)(
        "pg_dump",
        ["--data-only", "--no-owner", gw.databaseUrl],
        { maxBuffer: 64 * 1024 * 1024 },
      );

      expect(stdout).toContain(tenant.tenantId);
      expect(stdout).not.toContain("needle-secret-5f2a");
      expect(stdout).not.toContain("needle-billing-9c1d");
    });

    it("refuses to open a sealed value copied from another tenant", async () => {
      const other = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("cfg-o"));
      const mine = await stored();
      expect(mine.sealed).not.toBeNull();
      await gw.gateway.database.control.tenantConfig.update({
        where: { tenantId: other.tenantId },
        data: { sealed: mine.sealed },
      });
      const otherAdmin = await gw.tokenFor(other.tenantId, other.users.admin);

      const res = await gw.request(CONFIG, { tenant: other.tenantId, token: otherAdmin });

      expect(codesOf(res)).toEqual(["INTERNAL_SERVER_ERROR"]);
      expect(JSON.stringify(res.body)).not.toContain("sk-one");
    });
  });

  describe("versions", () => {
    it("records each change with who made it, newest first", async () => {
      const before = await stored();
      await update(adminToken, { branding: { displayName: "V-a" } });
      await update(staffToken, { branding: { displayName: "V-b" } });

      const res = await send<{ tenantConfigVersions: Data[] }>(VERSIONS, adminToken, { first: 2 });

      expect(res.body.errors).toBeUndefined();
      const [newest, previous] = res.body.data?.tenantConfigVersions ?? [];
      expect(newest).toMatchObject({
        version: before.version + 2,
        action: "update",
        actorId: "platform:staff-1",
        branding: { displayName: "V-b" },
      });
      expect(previous).toMatchObject({
        version: before.version + 1,
        actorId: tenant.users.admin,
        branding: { displayName: "V-a" },
      });
      const first = await send<{ tenantConfigVersions: Data[] }>(VERSIONS, adminToken, {
        first: 1,
        before: 2,
      });
      expect(first.body.data?.tenantConfigVersions).toEqual([
        expect.objectContaining({ version: 1, action: "provision" }),
      ]);
    });

    it.each([
      [{ first: -5 }, "first"],
      [{ first: 101 }, "first"],
      [{ first: 5, before: -1 }, "before"],
    ])("refuses a page of %j naming %s", async (variables, field) => {
      const res = await send(VERSIONS, adminToken, variables);

      expect(refusal(res)).toMatchObject({ code: "BAD_USER_INPUT", field });
    });

    it("restores an earlier version as a new one, secrets included", async () => {
      await update(adminToken, {
        settings: { locale: "it", secrets: { RESTORE_ME: "r-1" } },
        branding: { displayName: "Before" },
      });
      const good = (await stored()).version;
      await update(adminToken, {
        settings: { locale: "es", secrets: { RESTORE_ME: null, LATER: "l-1" } },
        branding: { displayName: "After" },
      });

      const res = await send<{ restoreTenantConfig: Data }>(RESTORE, adminToken, { version: good });

      expect(res.body.errors).toBeUndefined();
      expect(res.body.data?.restoreTenantConfig).toMatchObject({
        version: good + 2,
        settings: { locale: "it" },
        branding: { displayName: "Before" },
      });
      expect(res.body.data?.restoreTenantConfig.secretNames).toContain("RESTORE_ME");
      expect(res.body.data?.restoreTenantConfig.secretNames).not.toContain("LATER");
      const history = await send<{ tenantConfigVersions: Data[] }>(VERSIONS, adminToken, {
        first: 1,
      });
      expect(history.body.data?.tenantConfigVersions[0]).toMatchObject({
        action: "restore",
        restoredFrom: good,
      });
      // The tenant shows the restored branding at once.
      const shown = await gw.request<{ tenant: { branding: Data } }>("{ tenant { branding } }", {
        tenant: tenant.tenantId,
      });
      expect(shown.body.data?.tenant.branding).toEqual({ displayName: "Before" });
    });

    it("keeps limits and billing as they are when a tenant admin restores", async () => {
      await update(staffToken, {
        billing: { plan: "starter" },
        limits: { requestsPerMinute: 7_000 },
      });
      const cheap = (await stored()).version;
      await update(staffToken, {
        billing: { plan: "enterprise" },
        limits: { requestsPerMinute: 9_000 },
      });

      const res = await send<{ restoreTenantConfig: Data }>(RESTORE, adminToken, {
        version: cheap,
      });

      expect(res.body.errors).toBeUndefined();
      expect(res.body.data?.restoreTenantConfig).toMatchObject({
        billing: { plan: "enterprise" },
        limits: { requestsPerMinute: 9_000 },
      });
    });

    it("refuses a tenant admin's restore of billing with FORBIDDEN", async () => {
      const before = await stored();

      const res = await send(RESTORE, adminToken, { version: 1, documents: ["BILLING"] });

      expect(codesOf(res)).toEqual(["FORBIDDEN"]);
      expect(await stored()).toEqual(before);
    });

    it("lets staff restore billing and limits", async () => {
      const res = await send<{ restoreTenantConfig: Data }>(RESTORE, staffToken, {
        version: 1,
        documents: ["BILLING", "LIMITS"],
      });

      expect(res.body.errors).toBeUndefined();
      expect(res.body.data?.restoreTenantConfig).toMatchObject({
        billing: { plan: "starter", status: "active" },
        limits: {},
      });
    });

    it("answers NOT_FOUND for a version that does not exist", async () => {
      const res = await send(RESTORE, adminToken, { version: 999_999 });

      expect(codesOf(res)).toEqual(["NOT_FOUND"]);
    });

    it("numbers concurrent changes without gaps or duplicates", async () => {
      const before = (await stored()).version;

      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          update(adminToken, { branding: { displayName: `Concurrent ${i}` } }),
        ),
      );

      expect(results.map((r) => r.body.errors)).toEqual(Array(8).fill(undefined));
      const rows = await gw.gateway.database.control.tenantConfigVersion.findMany({
        where: { tenantId: tenant.tenantId, version: { gt: before } },
        orderBy: { version: "asc" },
      });
      expect(rows.map((r) => r.version)).toEqual(
        Array.from({ length: 8 }, (_, i) => before + 1 + i),
      );
      const last = rows.at(-1);
      expect((await stored()).branding).toEqual(last?.branding);
    });
  });
});
