/**
 * A small reader of the Prometheus text format, enough for the gateway's own
 * `/metrics`: one sample per line, `name{label="value",…} number`.
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function unescape(value: string): string {
  return value.replace(/\\(.)/g, (_, char: string) => (char === "n" ? "\n" : char));
}

function parseValue(text: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  const value = Number(text);
  // prom-client writes NaN as `Nan`; Prometheus reads either spelling.
  if (Number.isNaN(value) && text.toLowerCase() !== "nan") {
    throw new Error(`not a sample value: ${text}`);
  }

  return value;
}

export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const match = SAMPLE_LINE.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? "").matchAll(LABEL)) {
      labels[key as string] = unescape(value as string);
    }
    samples.push({ name: match[1] as string, labels, value: parseValue(match[3] as string) });
  }

  return samples;
}

/** A scrape's samples, with exact and summed look-ups. */
export class Scrape {
  readonly samples: readonly Sample[];

  constructor(text: string) {
    this.samples = parsePrometheusText(text);
  }

  /** The value of the one series with exactly these labels; undefined when absent. */
  value(name: string, labels: Record<string, string> = {}): number | undefined {
    const wanted = Object.entries(labels);
    const found = this.samples.filter(
      (sample) =>
        sample.name === name &&
        Object.keys(sample.labels).length === wanted.length &&
        wanted.every(([key, value]) => sample.labels[key] === value),
    );
    if (found.length > 1) throw new Error(`${name} has ${found.length} series with those labels`);

    return found[0]?.value;
  }

  /** The sum over every series of `name` whose labels include `labels` (0 when none). */
  sum(name: string, labels: Record<string, string> = {}): number {
    return this.matching(name, labels).reduce((total, sample) => total + sample.value, 0);
  }

  /** Every series of `name` whose labels include `labels`. */
  matching(name: string, labels: Record<string, string> = {}): Sample[] {
    const wanted = Object.entries(labels);

    return this.samples.filter(
      (sample) =>
        sample.name === name && wanted.every(([key, value]) => sample.labels[key] === value),
    );
  }

  /** Distinct values of one label across a metric's series. */
  labelValues(name: string, label: string): string[] {
    const values = new Set<string>();
    for (const sample of this.samples) {
      const value = sample.labels[label];
      if (sample.name === name && value !== undefined) values.add(value);
    }

    return [...values].sort();
  }

  /** Every series (name and labels), for counting what a scrape holds. */
  seriesKeys(): Set<string> {
    return new Set(this.samples.map((sample) => `${sample.name}${JSON.stringify(sample.labels)}`));
  }
}

/** Scrapes `${url}/metrics` (with the bearer token when given). */
export async function scrape(url: string, token?: string): Promise<Scrape> {
  const response = await fetch(`${url}/metrics`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);

  return new Scrape(await response.text());
}
