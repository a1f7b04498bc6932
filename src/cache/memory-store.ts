import type { KeyvStoreAdapter, StoredData } from "keyv";

/** The most entries the memory store holds before it drops the oldest. */
export const MEMORY_MAX_ENTRIES = 50_000;

interface MemoryEntry {
  value: string;
  /** `Date.now()` value after which the entry reads as a miss. */
  expiresAt: number;
}

/**
 * A Keyv store adapter over a Map that expires entries itself, as Redis does, so the same
 * Keyv configuration serves both backends. Expired entries go when read; beyond
 * `MEMORY_MAX_ENTRIES` the oldest written go first, which bounds the memory a gateway
 * without Redis can use.
 */
export class MemoryStore implements KeyvStoreAdapter {
  opts = { dialect: "memory" };
  namespace?: string;
  readonly #entries = new Map<string, MemoryEntry>();

  // Nothing in a Map fails, so there is never an event to listen to.
  on(): this {
    return this;
  }

  // Keyv types its adapter generically over the value; this store only holds JSON text.
  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    return this.#read(key) as Value | undefined;
  }

  async getMany<Value>(keys: string[]): Promise<StoredData<Value | undefined>[]> {
    return keys.map((key) => this.#read(key) as Value | undefined);
  }

  async set(key: string, value: string, ttl?: number): Promise<void> {
    this.#write(key, value, ttl);
  }

  async setMany(entries: { key: string; value: string; ttl?: number }[]): Promise<void> {
    for (const { key, value, ttl } of entries) this.#write(key, value, ttl);
  }

  async delete(key: string): Promise<boolean> {
    return this.#entries.delete(key);
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    return this.deleteKeys(keys) > 0;
  }

  async clear(): Promise<void> {
    this.#entries.clear();
  }

  /** Keys that start with `prefix`, expired ones included (as Redis may still list them). */
  keysWithPrefix(prefix: string): string[] {
    return [...this.#entries.keys()].filter((key) => key.startsWith(prefix));
  }

  /** Removes the keys and returns how many were there. */
  deleteKeys(keys: string[]): number {
    return keys.filter((key) => this.#entries.delete(key)).length;
  }

  #read(key: string): string | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (Date.now() >= entry.expiresAt) {
      this.#entries.delete(key);
      return undefined;
    }

    return entry.value;
  }

  #write(key: string, value: string, ttl: number | undefined): void {
    // Delete first so that a rewritten key moves to the young end of the Map's order.
    this.#entries.delete(key);
    if (this.#entries.size >= MEMORY_MAX_ENTRIES) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, expiresAt: Date.now() + (ttl ?? Infinity) });
  }
}
