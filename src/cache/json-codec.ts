/**
 * Turns a value into the JSON text the store keeps, or `undefined` when JSON cannot
 * represent it: `undefined` itself, a function, a symbol, a BigInt or a cycle. Both
 * stores keep text, so the memory store hands out copies and behaves like Redis: a
 * `Date` comes back as its ISO string.
 */
export function encodeValue(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    // BigInt and cyclic values throw; the caller skips such an entry.
    return undefined;
  }
}

/**
 * Reads stored JSON text back; `undefined` when it is not JSON, so an entry that some
 * other writer left under our key reads as a miss instead of failing the whole batch.
 */
export function decodeValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
