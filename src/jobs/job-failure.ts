import { GatewayError, isErrorCode, type ErrorCode } from "../errors/index.js";
import type { JobRow } from "./job-store.js";

/** Why an attempt failed, as the job's record keeps it. */
export interface JobFailure {
  readonly code: ErrorCode;
  readonly message: string;
  /** The input field a BAD_USER_INPUT names. */
  readonly field?: string;
  /**
   * A refusal on purpose (bad input, no such tenant): running it again would
   * be refused again, so it is never retried.
   */
  readonly deliberate: boolean;
}

/** What a thrown value says about the attempt. */
export function describeFailure(error: unknown): JobFailure {
  if (error instanceof GatewayError && error.code !== "INTERNAL_SERVER_ERROR") {
    const field = error.extensions.field;

    return {
      code: error.code,
      message: error.message,
      ...(typeof field === "string" ? { field } : {}),
      deliberate: true,
    };
  }

  return {
    code: "INTERNAL_SERVER_ERROR",
    message: error instanceof Error ? error.message : String(error),
    deliberate: false,
  };
}

/** A failure nobody's attempt recorded: the queue gave the job up (e.g. it stalled too often). */
export function lostFailure(reason: string): JobFailure {
  return { code: "INTERNAL_SERVER_ERROR", message: reason, deliberate: false };
}

/** The input field a FAILED job's error names (see job-store.ts), if any. */
export function failedField(row: JobRow): string | undefined {
  const result = row.result as { error?: { field?: unknown } } | null;
  const field = result?.error?.field;

  return typeof field === "string" ? field : undefined;
}

/** The error a FAILED job's waiting caller gets: the code, message and field it failed with. */
export function errorOfFailedJob(row: JobRow): Error {
  const code = row.errorCode;
  const message = row.errorMessage ?? "The job failed.";
  if (!isErrorCode(code) || code === "INTERNAL_SERVER_ERROR") {
    // Masked like any unexpected error; the log of the attempt has its stack.
    return new Error(message);
  }
  const field = failedField(row);

  return new GatewayError(code, message, field ? { field } : {});
}
