import { randomBytes } from "node:crypto";
import {
  createMasterKeys,
  createTenantKeyring,
  type TenantKeyring,
} from "../../src/crypto/index.js";
import { openDatabase, type Database } from "../../src/data/index.js";
import { createLogger } from "../../src/logging/index.js";
import { createTestDatabase } from "../support/database.js";

/** Master keys the crypto tests rotate between. */
export const KEY_A = Buffer.alloc(32, 0xa1);
export const KEY_B = Buffer.alloc(32, 0xb2);
export const KEY_C = Buffer.alloc(32, 0xc3);

/** A fresh control plane on the test PostgreSQL, and keyrings over it as other processes have them. */
export interface ControlPlane {
  readonly url: string;
  readonly database: Database;
  /** Registers tenants (rows only) so their keys have somewhere to belong. */
  addTenants(ids: readonly string[]): Promise<void>;
  /** A keyring of its own, as a process started with these master keys has it. */
  keyring(current: Buffer, ...previous: Buffer[]): TenantKeyring;
  close(): Promise<void>;
}

export async function openControlPlane(label: string, current = KEY_A): Promise<ControlPlane> {
  const test = await createTestDatabase(label);
  const database = await openDatabase({
    url: test.url,
    dataDir: "",
    poolMax: 16,
    masterKeys: createMasterKeys(current),
    logger: createLogger({ level: "silent" }),
  });

  return {
    url: test.url,
    database,
    addTenants: async (ids) => {
      await database.control.tenant.createMany({
        data: ids.map((id) => ({ id, name: `Tenant ${id}` })),
      });
    },
    keyring: (key, ...previous) =>
      createTenantKeyring({
        control: database.control,
        masterKeys: createMasterKeys(key, previous),
      }),
    close: async () => {
      await database.close();
      await test.drop();
    },
  };
}

/** Tenant ids unique to one test. */
export function tenantIds(prefix: string, count: number): string[] {
  const run = randomBytes(3).toString("hex");

  return Array.from({ length: count }, (_, i) => `${prefix}-${run}-${i}`);
}
