import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../support/database.js";
import { startGatewayProcess, type GatewayProcess } from "../support/gateway-process.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
  "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The files the page loads, as its markup names them. */
function assetsOf(page: string): string[] {
  return [...page.matchAll(/(?:src|href)="(\/admin\/assets\/[^"]+)"/g)].map((m) => m[1] as string);
}

function expectLockedDown(res: Response): void {
  expect(res.headers.get("content-security-policy")).toBe(CSP);
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  expect(res.headers.get("referrer-policy")).toBe("no-referrer");
  expect(res.headers.get("x-frame-options")).toBe("DENY");
}

describe("the /admin page over plain HTTP", () => {
  let gw: TestGateway;

  beforeAll(async () => {
    // Served in production too: it holds no data.
    gw = await startTestGateway("console-http", { production: true, redis: false });
  });
  afterAll(() => gw?.stop());

  it("serves the page under a strict policy, never cached", async () => {
    const res = await fetch(`${gw.url}/admin`);
    const page = await res.text();

    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expectLockedDown(res);
    expect(page).toContain("<title>Admin console · NewFinity Gateway</title>");
    // Nothing inline for the policy to refuse: scripts and styles are files.
    expect(page).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
  });

  it("serves every script and style the page names, chart.js included", async () => {
    const page = await (await fetch(`${gw.url}/admin`)).text();
    const assets = assetsOf(page);
    expect(assets).toEqual([
      "/admin/assets/console.css",
      "/admin/assets/chart.umd.js",
      "/admin/assets/console.js",
    ]);

    for (const path of assets) {
      const res = await fetch(`${gw.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type"), path).toMatch(
        path.endsWith(".css") ? /^text\/css/ : /^text\/javascript/,
      );
      expectLockedDown(res);
    }
    const chart = await (await fetch(`${gw.url}/admin/assets/chart.umd.js`)).text();
    expect(chart).toContain("Chart.js v4.");
  });

  it("serves the modules the console script imports", async () => {
    const script = await (await fetch(`${gw.url}/admin/assets/console.js`)).text();
    const imports = [...script.matchAll(/from "\.\/([a-z-]+\.js)"/g)].map((m) => m[1]);
    expect(imports.length).toBeGreaterThan(4);

    for (const name of imports) {
      const res = await fetch(`${gw.url}/admin/assets/${name}`);
      expect(res.status, name).toBe(200);
    }
  });

  it("answers 404 for a file it does not have, with the same headers", async () => {
    for (const path of ["missing.js", "index.html", "..%2F..%2Fpackage.json"]) {
      const res = await fetch(`${gw.url}/admin/assets/${path}`);
      expect(res.status, path).toBe(404);
      expectLockedDown(res);
    }
  });
});

describe("the /admin page of the compiled gateway", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let gateway: GatewayProcess;

  beforeAll(async () => {
    db = await createTestDatabase("console-process");
    gateway = await startGatewayProcess({ databaseUrl: db.url, redisUrl: null });
  });
  afterAll(async () => {
    await gateway?.stop();
    await db?.drop();
  });

  it("finds the files tsc does not copy", async () => {
    const page = await fetch(`${gateway.url}/admin`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<canvas\n              id="traffic-chart"');

    const operations = await fetch(`${gateway.url}/admin/assets/operations.js`);
    expect(operations.status).toBe(200);
    expect(await operations.text()).toContain("query AdminConsoleTenants");

    const chart = await fetch(`${gateway.url}/admin/assets/chart.umd.js`);
    expect(chart.status).toBe(200);
    expect(await chart.text()).toContain("Chart.js v4.");
  });
});
