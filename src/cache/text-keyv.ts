import { Keyv, type KeyvStoreAdapter } from "keyv";

/**
 * A Keyv that passes JSON text through to `store` under the exact keys it is given.
 *
 * - `namespace: undefined` matters most: Keyv hands its namespace (default `keyv`) to
 *   the store, and `@keyv/redis` then writes `keyv::{key}`. `useKeyPrefix: false` only
 *   stops Keyv's own `keyv:` prefix; both together leave the key alone.
 * - The value is stored as given, without Keyv's `{ value, expires }` wrapper: the store
 *   expires entries itself (PX on Redis), and a bare JSON value reads plainly in
 *   `redis-cli`. Without `expires`, Keyv's getMany never issues a second round trip to
 *   delete entries it thinks have expired.
 * - Failures reject (`throwOnErrors`) instead of being emitted, so every call knows
 *   its own outcome; connection errors reach the cache through the client's own events.
 */
export function createTextKeyv(store: KeyvStoreAdapter): Keyv<string> {
  return new Keyv<string>(store, {
    namespace: undefined,
    useKeyPrefix: false,
    serialize: (data) => String(data.value),
    // Keyv types this generically over the value; ours is always the stored text.
    deserialize: <Value>(text: string) => ({ value: text as Value }),
    throwOnErrors: true,
    emitErrors: false,
  });
}
