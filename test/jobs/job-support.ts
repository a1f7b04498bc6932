import pg from "pg";

/** Every field of a Job, for documents that read one. */
export const JOB_FIELDS = `id tenantId kind status attempts maxAttempts requestedBy
  createdAt startedAt finishedAt result error { code message field }`;

/** A job as GraphQL answers it. */
export interface JobAnswer {
  id: string;
  tenantId: string;
  kind: string;
  status: "QUEUED" | "RUNNING" | "SUCCEEDED" | "FAILED";
  attempts: number;
  maxAttempts: number;
  requestedBy: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  result: Record<string, unknown> | null;
  error: { code: string; message: string; field: string | null } | null;
}

/** A job's row as the database holds it. */
export interface JobRecord {
  id: string;
  tenantId: string;
  kind: string;
  status: string;
  attempts: number;
  maxAttempts: number;
  result: Record<string, unknown> | null;
  errorCode: string | null;
  errorMessage: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** A tenant's lifecycle lock, held by the test: the tenant's exports and moves wait for it. */
export interface HeldLock {
  release(): Promise<void>;
}

/**
 * Takes the advisory lock lifecycle work of `tenantId` takes on the control
 * database (see src/lifecycle/lifecycle-lock.ts), on a connection of its
 * own: a job that reaches it stays RUNNING until the test lets go.
 */
export async function holdLifecycleLock(databaseUrl: string, tenantId: string): Promise<HeldLock> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query("SELECT pg_advisory_lock(hashtext($1))", [`lifecycle:${tenantId}`]);
  let released = false;

  return {
    release: async () => {
      if (released) return;
      released = true;
      await client.end();
    },
  };
}

/** Reads `BackgroundJob` rows of a control database over a connection of its own. */
export interface JobReader {
  job(id: string): Promise<JobRecord | null>;
  jobs(tenantId: string): Promise<JobRecord[]>;
  query<T extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export async function openJobReader(databaseUrl: string): Promise<JobReader> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const query = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) =>
    (await client.query<T>(sql, params)).rows;

  return {
    job: async (id) =>
      (await query<JobRecord>(`SELECT * FROM "BackgroundJob" WHERE id = $1`, [id]))[0] ?? null,
    jobs: (tenantId) =>
      query<JobRecord>(`SELECT * FROM "BackgroundJob" WHERE "tenantId" = $1 ORDER BY "createdAt"`, [
        tenantId,
      ]),
    query,
    close: () => client.end(),
  };
}

/** Whether the job has ended, either way. */
export const hasEnded = (job: { status: string } | null | undefined) =>
  job?.status === "SUCCEEDED" || job?.status === "FAILED";
