import type { LocationClientStats } from "../data/placement/location-clients.js";

/**
 * What the gateway under test (tenant-bench-server.ts, a child process) tells the benchmark
 * over the IPC channel of `fork`.
 */
export type BenchServerMessage =
  /** Listening; requests go to `endpoint` (`http://127.0.0.1:<port>/graphql`). */
  | { readonly type: "ready"; readonly endpoint: string }
  /**
   * Sent every 100 ms: the database tier's holdings (`gateway.database.stats()`) and where
   * the process's memory is (`process.memoryUsage()`, bytes).
   */
  | {
      readonly type: "stats";
      readonly stats: LocationClientStats;
      readonly memory: ServerMemory;
    }
  /** The gateway could not start; the process exits after this. */
  | { readonly type: "failed"; readonly message: string };

/** Parts of `process.memoryUsage()` that tell the V8 heap from memory outside it. */
export interface ServerMemory {
  /** The V8 heap as committed: what the heap holds in RSS, garbage included. */
  readonly heapTotal: number;
  /** Objects on the heap, garbage not yet collected included. */
  readonly heapUsed: number;
  /** Memory of C++ objects bound to JavaScript ones, WebAssembly memories among them. */
  readonly external: number;
  /** ArrayBuffers and Buffers (part of `external`). */
  readonly arrayBuffers: number;
}
