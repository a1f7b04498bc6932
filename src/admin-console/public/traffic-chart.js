import { cell, clear, element } from "./dom.js";
import { formatClock, formatCount, formatTime } from "./format.js";

/** One colour per tenant; its errors use the same colour, dashed. */
const PALETTE = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#0891b2", "#dc2626", "#4b5563"];

/** Every window that any tenant reported, oldest first. */
function windowsOf(series) {
  const all = new Set(series.flatMap((s) => s.points.map((point) => point.at)));

  return [...all].sort((a, b) => Date.parse(a) - Date.parse(b));
}

/** A tenant's value per window; a window it did not report had no traffic. */
function valuesAt(windows, points, key) {
  const byWindow = new Map(points.map((point) => [point.at, point[key]]));

  return windows.map((at) => byWindow.get(at) ?? 0);
}

function datasetsOf(series, windows) {
  return series.flatMap(({ tenantId, points }, n) => {
    const colour = PALETTE[n % PALETTE.length];
    const line = { borderColor: colour, backgroundColor: colour, pointRadius: 0, borderWidth: 2 };

    return [
      { ...line, label: `${tenantId} requests`, data: valuesAt(windows, points, "requests") },
      {
        ...line,
        label: `${tenantId} errors`,
        data: valuesAt(windows, points, "errors"),
        borderDash: [6, 4],
      },
    ];
  });
}

function createChart(canvas) {
  const { Chart } = globalThis;
  if (!Chart) throw new Error("chart.js did not load.");

  return new Chart(canvas, {
    type: "line",
    data: { labels: [], datasets: [] },
    options: {
      // Redrawn every 30 s: animating each refresh would only distract.
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        x: { ticks: { maxRotation: 0, autoSkipPadding: 24 } },
        y: { beginAtZero: true, title: { display: true, text: "per 5 minutes" } },
      },
    },
  });
}

/** The chart's numbers as a table, for screen readers and for copying. */
function renderTable(table, windows, datasets) {
  const head = element("tr", {}, [
    element("th", { text: "Window start", attributes: { scope: "col" } }),
    ...datasets.map((d) => element("th", { text: d.label, attributes: { scope: "col" } })),
  ]);
  const busy = windows
    .map((at, i) => ({ at, values: datasets.map((d) => d.data[i]) }))
    .filter(({ values }) => values.some((value) => value > 0));
  const rows = busy.map(({ at, values }) =>
    element("tr", {}, [
      element("th", { attributes: { scope: "row" } }, [
        element("time", { text: formatTime(at), attributes: { datetime: at } }),
      ]),
      ...values.map((value) => cell(formatCount(value), { className: "number" })),
    ]),
  );
  if (rows.length === 0) {
    const span = Math.max(1, datasets.length + 1);
    rows.push(
      element("tr", {}, [cell("No traffic in this window.", { attributes: { colspan: span } })]),
    );
  }
  clear(table);
  table.append(element("thead", {}, [head]), element("tbody", {}, rows));
}

/**
 * The traffic chart: requests and errors per tenant, one point per
 * 5-minute window, drawn with chart.js and mirrored in a table.
 */
export class TrafficChart {
  constructor(canvas, table) {
    this.canvas = canvas;
    this.table = table;
    this.chart = null;
  }

  render(series) {
    const ordered = [...series].sort((a, b) => a.tenantId.localeCompare(b.tenantId));
    const windows = windowsOf(ordered);
    const datasets = datasetsOf(ordered, windows);
    this.chart ??= createChart(this.canvas);
    this.chart.data.labels = windows.map(formatClock);
    this.chart.data.datasets = datasets;
    this.chart.update();
    renderTable(this.table, windows, datasets);
  }

  clear() {
    this.chart?.destroy();
    this.chart = null;
    clear(this.table);
  }
}
