/**
 * Reads `read` every 100 ms until `done` holds of its answer or `boundMs`
 * passes, and returns the last answer: the test then asserts on it, so a
 * bound that runs out fails with the value that was seen.
 */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  boundMs = 5_000,
): Promise<T> {
  const deadline = Date.now() + boundMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await read();
  }

  return value;
}
