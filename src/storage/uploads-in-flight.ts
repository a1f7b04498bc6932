/** Bytes counted for one upload until it ends; `release` may be called more than once. */
export interface Reservation {
  release(): void;
}

/**
 * Bytes of the uploads this process is receiving, per tenant: what the
 * check before a body counts on top of the tenant's recorded usage, so
 * uploads in parallel cannot fill the disk past the quota before the final
 * check under the storage lock refuses them. In one process, the bodies in
 * flight for a tenant never pass the room its quota leaves, counting the
 * file an upload replaces as room (so never the quota itself).
 *
 * Per process only. With several gateway processes, each admits bodies on
 * its own: a tenant's bodies in flight stay below the number of processes
 * times its quota, while what is recorded stays within the quota.
 */
export class UploadsInFlight {
  readonly #bytes = new Map<string, number>();

  /** Bytes being received for the tenant now. */
  of(tenantId: string): number {
    return this.#bytes.get(tenantId) ?? 0;
  }

  /** Counts `bytes` for the tenant until the reservation is released. */
  reserve(tenantId: string, bytes: number): Reservation {
    this.#bytes.set(tenantId, this.of(tenantId) + bytes);
    let held = true;

    return {
      release: () => {
        if (!held) return;
        held = false;
        const left = this.of(tenantId) - bytes;
        if (left > 0) this.#bytes.set(tenantId, left);
        else this.#bytes.delete(tenantId);
      },
    };
  }
}
