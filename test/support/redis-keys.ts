/** What scanKeys needs of a node-redis client. */
export interface Scanner {
  scan(
    cursor: string,
    options: { MATCH: string; COUNT: number },
  ): Promise<{ cursor: unknown; keys: string[] }>;
}

/**
 * Every key in Redis that matches `pattern`, over all SCAN pages, sorted.
 * SCAN, never KEYS: the test Redis is shared by parallel test files.
 */
export async function scanKeys(redis: Scanner, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const page = await redis.scan(cursor, { MATCH: pattern, COUNT: 1_000 });
    cursor = String(page.cursor);
    keys.push(...page.keys);
  } while (cursor !== "0");

  return keys.sort();
}
