import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueDevelopmentToken } from "../../src/auth/index.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import {
  codesOf,
  startTestGateway,
  TEST_JWT_SECRET,
  uniqueTenantId,
  type TestGateway,
} from "../support/gateway.js";
import { launchChromium } from "./headless-chromium.js";
import {
  chartSeries,
  offerWindow,
  paintedPixels,
  rowsOf,
  sessionItems,
  settledStatus,
  watchTrouble,
  windowHas,
  type PageTrouble,
} from "./page-probes.js";

/** What a tenant admin may call their tenant: the console must show it as text. */
const HOSTILE_NAME = `<img src=x onerror="window.__pwned = true">`;

const DASHBOARD = "query Dashboard { tenant { id name } }";
const CREATE_ROLE = `mutation CreateRole {
  createRole(input: { name: "auditor", permissions: ["users:read"] }) { name }
}`;
const RENAME = `mutation UpdateTenantConfig($name: String) {
  updateTenantConfig(input: { name: $name }) { id }
}`;

/** The calm tenant's traffic: successful reads, and refused writes by a member. */
const CALM_READS = 4;
const CALM_REFUSALS = 3;

async function signIn(page: Page, token: string): Promise<void> {
  await page.fill("#token", token);
  await page.click("#sign-in-form button[type=submit]");
}

describe("the admin console in a browser", () => {
  let gw: TestGateway;
  let calm: TenantFixture;
  let hostile: TenantFixture;
  let browser: Browser;
  let page: Page;
  let trouble: PageTrouble;
  const refusedRequestIds: string[] = [];

  beforeAll(async () => {
    gw = await startTestGateway("console-page");
    [calm, hostile] = await Promise.all([
      seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("console-calm")),
      seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("console-hostile")),
    ]);

    // Real traffic through the API, counted by the gateway's telemetry.
    const calmAdmin = await gw.tokenFor(calm.tenantId, calm.users.admin);
    const calmMember = await gw.tokenFor(calm.tenantId, calm.users.member);
    for (let i = 0; i < CALM_READS; i += 1) {
      const res = await gw.request(DASHBOARD, { tenant: calm.tenantId, token: calmAdmin });
      expect(res.body.errors).toBeUndefined();
    }
    for (let i = 0; i < CALM_REFUSALS; i += 1) {
      const res = await gw.request(CREATE_ROLE, { tenant: calm.tenantId, token: calmMember });
      expect(codesOf(res)).toEqual(["FORBIDDEN"]);
      refusedRequestIds.push(res.headers?.get("x-request-id") ?? "");
    }
    const hostileAdmin = await gw.tokenFor(hostile.tenantId, hostile.users.admin);
    const renamed = await gw.request(RENAME, {
      tenant: hostile.tenantId,
      token: hostileAdmin,
      variables: { name: HOSTILE_NAME },
    });
    expect(renamed.body.errors).toBeUndefined();
    await gw.gateway.telemetry.flush();

    browser = await launchChromium();
    page = await browser.newPage();
    // What a person sees appears within moments; a missing element fails fast.
    page.setDefaultTimeout(5_000);
    trouble = await watchTrouble(page);
    await page.clock.install();
    await page.goto(`${gw.url}/admin`);
  });

  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
  });

  it("asks a visitor without a token to sign in, and shows no data", async () => {
    expect(await settledStatus(page)).toBe("Signed out.");
    expect(await page.isVisible("#sign-in-form")).toBe(true);
    expect(await page.isVisible("#console")).toBe(false);
  });

  it("shows a global admin every tenant with its name and health", async () => {
    await signIn(page, await gw.globalAdminToken());
    expect(await settledStatus(page)).toMatch(/^Updated at [^,]*\.$/);

    const rows = await rowsOf(page, "#tenants");
    const byId = new Map(rows.map((cells) => [cells[0], cells]));
    expect([...byId.keys()].sort()).toEqual([calm.tenantId, hostile.tenantId].sort());
    const calmRow = byId.get(calm.tenantId) ?? [];
    expect(calmRow.slice(1, 3)).toEqual([`Tenant ${calm.tenantId}`, "ACTIVE"]);
    expect(calmRow[4]).toBe("● ok");
    // Requests and error rate in the last hour: the refusals are the
    // client's errors, not server-side failures, so the rate stays 0.
    expect(calmRow[5]).toBe(String(CALM_READS + CALM_REFUSALS));
    expect(calmRow[6]).toBe("0.0%");
    expect(byId.get(hostile.tenantId)?.[4]).toBe("● ok");
    const marker = `tr[data-tenant-id="${calm.tenantId}"] [data-health]`;
    expect(await page.getAttribute(marker, "data-health")).toBe("ok");
  });

  it("draws requests and errors per tenant, with the same numbers in a table", async () => {
    const series = await chartSeries(page);
    // Tenants in id order ("console-calm-…" before "console-hostile-…").
    expect(series).toEqual([
      { label: `${calm.tenantId} requests`, total: CALM_READS + CALM_REFUSALS },
      { label: `${calm.tenantId} errors`, total: CALM_REFUSALS },
      { label: `${hostile.tenantId} requests`, total: 1 },
      { label: `${hostile.tenantId} errors`, total: 0 },
    ]);

    // Something was drawn on the canvas, not only configured.
    const painted = await paintedPixels(page);
    expect(painted).toBeGreaterThan(1_000);

    const headers = await page.$$eval("#traffic-table thead th", (cells) =>
      cells.map((c) => c.textContent),
    );
    expect(headers).toEqual(["Window start", ...(series ?? []).map((s) => s.label)]);
  });

  it("lists the error cluster with its code, count and tenant", async () => {
    const rows = await rowsOf(page, "#clusters");
    const forbidden = rows.filter((cells) => cells[0] === "FORBIDDEN");
    expect(forbidden).toHaveLength(1);
    const [code, , where, count, tenants] = forbidden[0] ?? [];
    expect([code, where, count, tenants]).toEqual([
      "FORBIDDEN",
      "CreateRole › createRole",
      String(CALM_REFUSALS),
      calm.tenantId,
    ]);
    const requestIds = await page
      .locator("#clusters tbody tr", { hasText: "FORBIDDEN" })
      .locator("td:last-child code")
      .allTextContents();
    expect(requestIds.sort()).toEqual([...refusedRequestIds].sort());
  });

  it("shows a hostile tenant name as text: no element made, no script run", async () => {
    const name = await page.textContent(`tr[data-tenant-id="${hostile.tenantId}"] .tenant-name`);
    expect(name).toBe(HOSTILE_NAME);
    expect(await page.$$eval("main img", (images) => images.length)).toBe(0);
    expect(await windowHas(page, "__pwned")).toBe(false);
  });

  it("reloads the traffic for the window a person picks", async () => {
    const asked = page.waitForRequest((request) => request.postDataJSON()?.variables?.hours === 1);
    await page.selectOption("#window", "1");
    await asked;
    expect(await settledStatus(page)).toMatch(/^Updated at/);
  });

  it("says why a section could not load, and keeps showing the others", async () => {
    await offerWindow(page, 500);
    await page.selectOption("#window", "500");
    expect(await settledStatus(page)).toMatch(
      /^Updated at .*, with errors: see the sections marked\.$/,
    );
    expect(await page.textContent("#traffic-state")).toMatch(
      /^Could not load: hours must be .*\(BAD_USER_INPUT\)$/,
    );
    expect(await rowsOf(page, "#tenants")).toHaveLength(2);

    await page.selectOption("#window", "24");
    expect(await settledStatus(page)).toMatch(/^Updated at [^,]*\.$/);
    expect(await page.isVisible("#traffic-state")).toBe(false);
  });

  it("refreshes by itself every 30 seconds", async () => {
    const asked = page.waitForRequest((request) =>
      String(request.postDataJSON()?.query ?? "").startsWith("query AdminConsoleTenants"),
    );
    await page.clock.runFor(30_000);
    await asked;
  });

  it("forgets the token and every number at sign-out", async () => {
    await page.click("#sign-out");
    expect(await settledStatus(page)).toBe("Signed out.");
    expect(await sessionItems(page)).toBe(0);
    expect(await page.isVisible("#sign-in-form")).toBe(true);
    expect(await rowsOf(page, "#tenants")).toEqual([]);
    expect(await rowsOf(page, "#clusters")).toEqual([]);
    expect(page.url()).toBe(`${gw.url}/admin`);
  });

  it("refuses a tenant member's token: the console is for global admins", async () => {
    await signIn(page, await gw.tokenFor(calm.tenantId, calm.users.member));
    expect(await settledStatus(page)).toBe("Signed out: the token was refused.");

    const alert = await page.textContent("#sign-in-error[role=alert]");
    expect(alert).toMatch(/^This console is for global admins\./);
    expect(await sessionItems(page)).toBe(0);
    expect(await page.isVisible("#console")).toBe(false);
  });

  it("sends an expired token back to the sign-in form", async () => {
    const expired = await issueDevelopmentToken(TEST_JWT_SECRET, {
      sub: "staff-1",
      roles: ["global_admin"],
      expiresIn: "10 minutes ago",
    });
    await signIn(page, expired);
    expect(await settledStatus(page)).toBe("Signed out: the token was refused.");
    expect(await page.textContent("#sign-in-error")).toMatch(/invalid or has expired/);
  });

  it("ran without a policy violation or an uncaught error", () => {
    expect(trouble).toEqual({ violations: [], pageErrors: [] });
  });
});
