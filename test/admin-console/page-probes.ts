import type { Page } from "playwright-core";

// The functions handed to page.evaluate run in the browser, on its globals.
// The tests' own type library has no DOM, so these say just what they use
// (module-scoped: nothing leaks into other files).
interface Pixels {
  data: Uint8ClampedArray;
}
interface PageElement {
  textContent: string | null;
  append(...nodes: unknown[]): void;
  width: number;
  height: number;
  getContext(kind: "2d"): { getImageData(x: number, y: number, w: number, h: number): Pixels };
}
interface ViolationEvent {
  violatedDirective: string;
  blockedURI: string;
}
declare const document: {
  getElementById(id: string): PageElement | null;
  addEventListener(type: string, listener: (event: ViolationEvent) => void): void;
};
declare const window: Record<string, unknown>;
declare const Option: new (text: string, value: string) => unknown;
declare const sessionStorage: { length: number };
interface ChartGlobal {
  getChart(id: string): { data: { datasets: { label: string; data: number[] }[] } } | undefined;
}

/** What the page's scripts ran into: policy refusals and uncaught errors. */
export interface PageTrouble {
  violations: string[];
  pageErrors: string[];
}

/**
 * Records every Content-Security-Policy refusal (an inline handler or
 * style that got into the page) and every uncaught error, from the first
 * script on. Call before the first navigation.
 */
export async function watchTrouble(page: Page): Promise<PageTrouble> {
  const trouble: PageTrouble = { violations: [], pageErrors: [] };
  page.on("pageerror", (error) => trouble.pageErrors.push(error.message));
  await page.exposeFunction("reportViolation", (text: string) => trouble.violations.push(text));
  // Injected by the browser itself, so the page's policy does not apply to it.
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      const report = window.reportViolation as (text: string) => void;
      report(`${event.violatedDirective} ${event.blockedURI}`);
    });
  });

  return trouble;
}

/** Waits for the status line to report a finished load or an ended session, and returns it. */
export async function settledStatus(page: Page): Promise<string> {
  await page.waitForFunction(() =>
    /^(Updated at|Could not load|Signed out)/.test(
      document.getElementById("status")?.textContent ?? "",
    ),
  );

  return (await page.textContent("#status")) ?? "";
}

/** The text of every body row of a table, cell by cell, spaces collapsed. */
export function rowsOf(page: Page, table: string): Promise<string[][]> {
  return page.$$eval(`${table} tbody tr`, (rows) =>
    rows.map((row) =>
      [...(row as unknown as { cells: PageElement[] }).cells].map((c) =>
        (c.textContent ?? "").replace(/\s+/g, " ").trim(),
      ),
    ),
  );
}

/** The chart's series as chart.js holds them: label and the sum of its points. */
export function chartSeries(page: Page): Promise<{ label: string; total: number }[] | null> {
  return page.evaluate(() => {
    const chart = (window.Chart as ChartGlobal).getChart("traffic-chart");
    if (!chart) return null;

    return chart.data.datasets.map((set) => ({
      label: set.label,
      total: set.data.reduce((sum, value) => sum + value, 0),
    }));
  });
}

/** How many pixels of the chart's canvas are not transparent. */
export function paintedPixels(page: Page): Promise<number> {
  return page.evaluate(() => {
    const canvas = document.getElementById("traffic-chart");
    if (!canvas) return 0;
    const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
    let painted = 0;
    for (let alpha = 3; alpha < data.length; alpha += 4) if (data[alpha] !== 0) painted += 1;

    return painted;
  });
}

/** How many items the tab's sessionStorage holds. */
export function sessionItems(page: Page): Promise<number> {
  return page.evaluate(() => sessionStorage.length);
}

/** Whether the page's window has a property of this name (set by a script that ran). */
export function windowHas(page: Page, name: string): Promise<boolean> {
  return page.evaluate((key) => key in window, name);
}

/** Adds a choice of window the page does not offer, to see the gateway refuse it. */
export function offerWindow(page: Page, hours: number): Promise<void> {
  return page.evaluate((value) => {
    document.getElementById("window")?.append(new Option(`${value} hours`, String(value)));
  }, hours);
}
