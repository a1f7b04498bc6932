import type { PassResult } from "./measure-pass.js";

/** What one request cost on its own. */
export interface SingleRequest {
  latencyMs: number;
  statements: number;
  roundTrips: number;
  /** Whether the answer matched the seeded data. */
  right: boolean;
}

/** Everything `npm run bench` prints. */
export interface BenchReport {
  machine: [label: string, value: string][];
  parameters: [label: string, value: string][];
  /** Batched with a cold and a warm cache, and naive (which has no cache). */
  single: { cold: SingleRequest; warm: SingleRequest; naive: SingleRequest };
  cold: PassResult;
  warm: PassResult;
  naive: PassResult;
  /** Wrong answers of every phase, warm-up and single requests included. */
  wrong: { phase: string; index: number; message: string }[];
}

/** Kinds of wrong answer printed; the rest are only counted. */
const SHOWN_KINDS = 20;

/** Lays out rows under a header: the first column to the left, the others to the right. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        return column === 0 ? cell.padEnd(width) : cell.padStart(width);
      })
      .join("  ")
      .trimEnd();
  const rule = widths.map((width) => "-".repeat(width)).join("  ");

  return [line(header), rule, ...rows.map(line)].map((text) => `  ${text}`).join("\n");
}

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "n/a";
}

function percent(share: number): string {
  return Number.isFinite(share) ? `${(share * 100).toFixed(0)}%` : "n/a";
}

function ratio(naive: number, batched: number): string {
  return batched > 0 && Number.isFinite(naive / batched) ? `${fixed(naive / batched, 1)}x` : "n/a";
}

function labelled(pairs: [string, string][]): string {
  const width = Math.max(...pairs.map(([label]) => label.length));

  return pairs.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`).join("\n");
}

function passRow(pass: PassResult): string[] {
  return [
    pass.label,
    String(pass.concurrency),
    String(pass.completed),
    fixed(pass.requestsPerSecond, 1),
    fixed(pass.p50Ms, 1),
    fixed(pass.p99Ms, 1),
    fixed(pass.statements, 1),
    fixed(pass.roundTrips, 1),
    percent(pass.hitRate),
    String(pass.cacheErrors),
    fixed(pass.cpuMs, 1),
    String(pass.failures.length),
  ];
}

function singleRow(label: string, single: SingleRequest): string[] {
  return [
    label,
    fixed(single.latencyMs, 1),
    String(single.statements),
    String(single.roundTrips),
    single.right ? "right" : "WRONG",
  ];
}

/** The report as text, ready for standard output. */
export function formatReport(report: BenchReport): string {
  const { cold, warm, naive } = report;
  const sections = [
    "NewFinity Gateway: dashboard query benchmark",
    `Machine\n${labelled(report.machine)}`,
    `Parameters\n${labelled(report.parameters)}`,
    "One request in isolation\n" +
      formatTable(
        ["loaders, cache", "latency ms", "SQL statements", "cache round trips", "answer"],
        [
          singleRow("batched, cold", report.single.cold),
          singleRow("batched, warm", report.single.warm),
          singleRow("naive, none", report.single.naive),
        ],
      ),
    "Passes\n" +
      formatTable(
        [
          "mode",
          "conc.",
          "requests",
          "req/s",
          "p50 ms",
          "p99 ms",
          "SQL/req",
          "cache RT/req",
          "wrong",
        ],
        [passRow({ ...cold, label: `${cold.label} *` }), passRow(warm), passRow(naive)],
      ) +
      "\n\n  * The cold pass clears the tenant's cache before each request, so it runs one\n" +
      "    request at a time: clearing between concurrent requests would empty the cache\n" +
      "    under requests already running. Its req/s is 1000 / mean latency, with the time\n" +
      "    spent clearing left out, and its SCAN/UNLINK round trips are not counted.\n" +
      "  hits: share of cache lookups found. cache errors: cache calls that failed or passed\n" +
      "  the cache timeout in the pass (each makes the loader go to the database instead).\n" +
      "  CPU ms/req: this process (gateway plus the in-process client) per request.",
    "Naive / batched\n" +
      formatTable(
        [
          "figure",
          `vs warm (both conc. ${naive.concurrency})`,
          `vs cold (conc. ${cold.concurrency})`,
        ],
        [
          [
            "SQL statements per request",
            ratio(naive.statements, warm.statements),
            ratio(naive.statements, cold.statements),
          ],
          ["p50 latency", ratio(naive.p50Ms, warm.p50Ms), ratio(naive.p50Ms, cold.p50Ms)],
          ["p99 latency", ratio(naive.p99Ms, warm.p99Ms), ratio(naive.p99Ms, cold.p99Ms)],
          [
            "throughput (req/s)",
            ratio(naive.requestsPerSecond, warm.requestsPerSecond),
            ratio(naive.requestsPerSecond, cold.requestsPerSecond),
          ],
        ],
      ) +
      "\n\n  Latency against the cold pass compares different concurrency; read it with care.",
    formatWrong(report.wrong),
  ];

  return `${sections.join("\n\n")}\n`;
}

function formatWrong(wrong: BenchReport["wrong"]): string {
  if (wrong.length === 0) return "Wrong responses: none (every answer matched the seeded data)";

  // The same failure tends to repeat hundreds of times: print each kind once, counted.
  const kinds = new Map<string, { count: number; first: number }>();
  for (const entry of wrong) {
    const key = `${entry.phase}: ${entry.message}`;
    const kind = kinds.get(key) ?? { count: 0, first: entry.index };
    kind.count += 1;
    kind.first = Math.min(kind.first, entry.index);
    kinds.set(key, kind);
  }
  const shown = [...kinds]
    .slice(0, SHOWN_KINDS)
    .map(([key, kind]) => `  ${kind.count} x ${key} (first: request #${kind.first + 1})`);
  const hidden = kinds.size - shown.length;

  return [
    `Wrong responses: ${wrong.length}`,
    ...shown,
    ...(hidden > 0 ? [`  ... and ${hidden} other kinds`] : []),
  ].join("\n");
}
