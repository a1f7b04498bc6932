import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import {
  codesOf,
  startTestGateway,
  uniqueTenantId,
  type GraphQLResponse,
  type TestGateway,
} from "../support/gateway.js";

const UPDATE = `mutation ($input: UpdateTenantConfigInput!) {
  updateTenantConfig(input: $input) { id branding }
}`;

/**
 * `{"a":{"a":…{}…}}` with `levels` objects, written as text: JSON.stringify
 * itself overflows the stack on a few thousand levels.
 */
function nestedJson(levels: number): string {
  return `${'{"a":'.repeat(levels - 1)}{}${"}".repeat(levels - 1)}`;
}

/** `[[…[]…]]` with `levels` arrays, as text. */
function nestedArrayJson(levels: number): string {
  return `${"[".repeat(levels)}${"]".repeat(levels)}`;
}

describe("tenant config documents nested too deep", () => {
  let gw: TestGateway;
  let tenant: TenantFixture;
  let token: string;

  beforeAll(async () => {
    gw = await startTestGateway("tenant-config");
    tenant = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("config"));
    token = await gw.tokenFor(tenant.tenantId, tenant.users.admin);
  });
  afterAll(() => gw?.stop());

  /** Sends updateTenantConfig with `inputJson` spliced in as text. */
  async function update(inputJson: string): Promise<GraphQLResponse> {
    const response = await fetch(`${gw.url}/graphql`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-tenant-id": tenant.tenantId,
        authorization: `Bearer ${token}`,
      },
      body: `{"query":${JSON.stringify(UPDATE)},"variables":{"input":${inputJson}}}`,
    });
    return { status: response.status, body: (await response.json()) as GraphQLResponse["body"] };
  }

  async function currentBranding(): Promise<unknown> {
    const res = await gw.request<{ tenant: { branding: unknown } }>("{ tenant { branding } }", {
      tenant: tenant.tenantId,
    });
    expect(res.body.errors).toBeUndefined();
    return res.body.data?.tenant.branding;
  }

  it("refuses branding nested 5,000 levels deep with BAD_USER_INPUT on branding", async () => {
    await update('{"branding":{"primaryColor":"#123456"}}');
    const before = await currentBranding();
    expect(before).toEqual({ primaryColor: "#123456" });

    const res = await update(`{"branding":${nestedJson(5_000)}}`);

    expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.body.errors?.[0]?.extensions?.field).toBe("branding");
    expect(res.body.errors?.[0]?.message).toBe(
      "branding may nest objects and arrays at most 16 levels deep.",
    );
    expect(await currentBranding()).toEqual({ primaryColor: "#123456" });
  });

  it("accepts settings nested exactly 16 levels deep (custom values are free-form)", async () => {
    // settings → custom → 14 more levels: 16 in all.
    const res = await update(`{"settings":{"custom":${nestedJson(15)}}}`);

    expect(res.body.errors).toBeUndefined();
    const stored = await gw.gateway.database.control.tenantConfig.findUnique({
      where: { tenantId: tenant.tenantId },
    });
    expect(JSON.stringify(stored?.settings)).toBe(`{"custom":${nestedJson(15)}}`);
  });

  it("refuses branding nested 17 levels deep and keeps the branding before it", async () => {
    await update('{"branding":{"primaryColor":"#654321"}}');

    const res = await update(`{"branding":${nestedJson(17)}}`);

    expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.body.errors?.[0]?.extensions?.field).toBe("branding");
    expect(await currentBranding()).toEqual({ primaryColor: "#654321" });
  });

  it("counts arrays as levels, so deep arrays inside branding are refused", async () => {
    const res = await update(`{"branding":{"palette":${nestedArrayJson(5_000)}}}`);

    expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.body.errors?.[0]?.extensions?.field).toBe("branding");
  });

  it("refuses deep settings naming settings, and saves neither document", async () => {
    await update('{"branding":{"primaryColor":"#abcdef"}}');

    const res = await update(
      `{"branding":{"primaryColor":"#000000"},"settings":${nestedJson(5_000)}}`,
    );

    expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.body.errors?.[0]?.extensions?.field).toBe("settings");
    expect(await currentBranding()).toEqual({ primaryColor: "#abcdef" });
  });
});
