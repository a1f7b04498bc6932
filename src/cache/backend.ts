/** Who holds a claimed key, and whether the claim just made it theirs. */
export interface Claim {
  holder: string;
  fresh: boolean;
}

/** One batch of a key scan; a `cursor` of "0" means the scan is complete. */
export interface ScanPage {
  cursor: string;
  keys: string[];
}

/**
 * What the cache needs from a store, as JSON text under full keys. Each method is one
 * round trip and may reject or hang; the cache bounds each with its timeout, counts it
 * and turns its failure into a miss.
 */
export interface CacheBackend {
  readonly kind: "redis" | "memory";
  /** False while there is no connection: calls then fail at once, so skip them. */
  connected(): boolean;
  getMany(keys: string[]): Promise<(string | undefined)[]>;
  setMany(entries: { key: string; value: string }[], ttlMs: number): Promise<void>;
  deleteMany(keys: string[]): Promise<void>;
  /** Keys that start with `prefix`, one batch at a time from `cursor` ("0" first). */
  scan(prefix: string, cursor: string): Promise<ScanPage>;
  /** Removes the keys and returns how many existed. */
  unlink(keys: string[]): Promise<number>;
  /**
   * Sets `key` to `value` unless it holds something already (SET NX PX on Redis), and
   * answers what it holds afterwards and whether this call set it; when it holds
   * `value`, its TTL starts again.
   */
  claim(key: string, value: string, ttlMs: number): Promise<Claim>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
