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

/** `naive / batched`, with enough digits to tell a small ratio from zero. */
function ratio(naive: number, batched: number): string {
  const value = naive / batched;
  if (!(batched > 0) || !Number.isFinite(value)) return "n/a";

  return `${value >= 10 ? value.toFixed(0) : value >= 1 ? value.toFixed(1) : value.toPrecision(2)}x`;
}

function labelled(pairs: [string, string][]): string {
  const width = Math.max(...pairs.map(([label]) => label.length));

  return pairs.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`).join("\n");
}

function timingRow(pass: PassResult): string[] {
  return [
    pass.label,
    String(pass.concurrency),
    String(pass.completed),
    fixed(pass.requestsPerSecond, 1),
    fixed(pass.p50Ms, 1),
    fixed(pass.p99Ms, 1),
    fixed(pass.cpuMs, 1),
    fixed(pass.loopDelayP99Ms, 1),
    String(pass.failures.length),
  ];
}

function workRow(pass: PassResult): string[] {
  return [
    pass.label,
    fixed(pass.statements, 1),
    fixed(pass.roundTrips, 1),
    percent(pass.hitRate),
    String(pass.cacheErrors),
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

const PASS_NOTES = [
  "* The cold pass clears the tenant's cache before each request, so it runs one request",
  "  at a time: clearing between concurrent requests would empty the cache under requests",
  "  already running. Its req/s is 1000 / mean latency, with the time spent clearing left",
  "  out, and its SCAN/UNLINK round trips are not counted.",
  "CPU ms/req: this process (the gateway plus the in-process client) per request.",
  "loop delay: event-loop delay p99 during the pass; past the cache timeout, Redis answers",
  "  already on their way arrive too late and count as misses.",
  "hits: share of cache lookups found. cache errors: cache calls that failed or passed the",
  "  cache timeout in the pass (each sends the loader to the database instead).",
];

function formatPasses(passes: PassResult[]): string {
  const timing = formatTable(
    [
      "mode",
      "conc.",
      "requests",
      "req/s",
      "p50 ms",
      "p99 ms",
      "CPU ms/req",
      "loop delay ms",
      "wrong",
    ],
    passes.map(timingRow),
  );
  const work = formatTable(
    ["mode", "SQL statements/req", "cache round trips/req", "hits", "cache errors"],
    passes.map(workRow),
  );

  return [
    `Passes: time\n${timing}`,
    `Passes: work per request\n${work}`,
    PASS_NOTES.map((line) => `  ${line}`).join("\n"),
  ].join("\n\n");
}

function formatRatios(cold: PassResult, warm: PassResult, naive: PassResult): string {
  const row = (figure: string, pick: (pass: PassResult) => number) => [
    figure,
    ratio(pick(naive), pick(warm)),
    ratio(pick(naive), pick(cold)),
  ];
  const table = formatTable(
    ["figure", `vs warm (both conc. ${naive.concurrency})`, `vs cold (conc. ${cold.concurrency})`],
    [
      row("SQL statements per request", (pass) => pass.statements),
      row("p50 latency", (pass) => pass.p50Ms),
      row("p99 latency", (pass) => pass.p99Ms),
      row("throughput (req/s)", (pass) => pass.requestsPerSecond),
    ],
  );

  return (
    `Naive / batched\n${table}\n\n` +
    "  Latency and throughput against the cold pass compare different concurrency."
  );
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
    formatPasses([{ ...cold, label: `${cold.label} *` }, warm, naive]),
    formatRatios(cold, warm, naive),
    ...cacheWarnings([cold, warm]),
    formatWrong(report.wrong),
  ];

  return `${sections.join("\n\n")}\n`;
}

/** A pass whose cache calls failed did not measure the cache it names; say so. */
function cacheWarnings(passes: PassResult[]): string[] {
  return passes
    .filter((pass) => pass.cacheErrors > 0)
    .map((pass) =>
      [
        `Warning: in "${pass.label}", ${pass.cacheErrors} cache calls failed or passed the`,
        `  cache timeout (hits ${percent(pass.hitRate)}, event-loop delay p99 ` +
          `${fixed(pass.loopDelayP99Ms, 0)} ms).`,
        "  Those lookups went to the database, so this pass mixes cache and database reads.",
      ].join("\n"),
    );
}

/** Wrong answers, each kind once with its count and first request. */
export function formatWrong(wrong: BenchReport["wrong"]): string {
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
