import { readFile } from "node:fs/promises";

/** A process's memory as Linux reports it, in KiB. */
export interface ProcessMemory {
  /** Resident set now (`VmRSS`). */
  readonly rssKb: number;
  /** Highest resident set since the process started (`VmHWM`). */
  readonly hwmKb: number;
}

function field(status: string, name: string, pid: number): number {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(status);
  if (!match?.[1]) throw new Error(`/proc/${pid}/status has no ${name} line.`);

  return Number(match[1]);
}

/** Reads `/proc/<pid>/status` (Linux only; the benchmark runs nowhere else). */
export async function readProcessMemory(pid: number): Promise<ProcessMemory> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");

  return { rssKb: field(status, "VmRSS", pid), hwmKb: field(status, "VmHWM", pid) };
}

/**
 * Clock ticks per second of `/proc/<pid>/stat` times. Node cannot ask sysconf(_SC_CLK_TCK);
 * Linux has fixed the value it reports to user space at 100 on every common architecture.
 */
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time a process has used so far, user and system together (ms). */
export async function readProcessCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) is in parentheses and may hold spaces; fields after it
  // start with the state (field 3), so utime (14) and stime (15) are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  if (!Number.isFinite(ticks)) throw new Error(`/proc/${pid}/stat has no CPU times.`);

  return (ticks * 1_000) / CLOCK_TICKS_PER_SECOND;
}

/** KiB as MB (10^6 bytes), as the report prints memory. */
export function megabytes(kb: number): number {
  return (kb * 1_024) / 1e6;
}

/** What a {@link MemorySampler} saw. */
export interface MemorySamples {
  /** Highest `VmRSS` sampled. */
  readonly peakRssKb: number;
  /** `VmRSS` and `VmHWM` when the sampler stopped. */
  readonly last: ProcessMemory;
}

export interface MemorySampler {
  stop(): Promise<MemorySamples>;
}

/** Samples `VmRSS` of `pid` every `intervalMs` (default 100) until stopped. */
export function startMemorySampler(pid: number, intervalMs = 100): MemorySampler {
  let peakRssKb = 0;
  const sample = async () => {
    const memory = await readProcessMemory(pid);
    peakRssKb = Math.max(peakRssKb, memory.rssKb);
    return memory;
  };
  // A failed read (the process just ended) skips one sample; the stop reads once more.
  const timer = setInterval(() => void sample().catch(() => undefined), intervalMs);

  return {
    stop: async () => {
      clearInterval(timer);
      const last = await sample();
      return { peakRssKb, last };
    },
  };
}
