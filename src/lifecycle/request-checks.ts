import { badInput } from "../errors/index.js";
import { Isolation } from "../generated/prisma/enums.js";

/** Regions, tiers, channels and server ids: short lowercase labels. */
export const LABEL_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;

/** A label from a request, or `fallback` when none is given; BAD_USER_INPUT naming `field`. */
export function checkLabel(
  field: string,
  value: string | null | undefined,
  fallback: string,
): string {
  const text = value?.trim() || fallback;
  if (!LABEL_PATTERN.test(text)) {
    throw badInput(field, `${field} must be a short lowercase label like "${fallback}".`);
  }

  return text;
}

/** An isolation tier from a request (the command line can send anything). */
export function checkIsolation(isolation: Isolation): Isolation {
  switch (isolation) {
    case Isolation.SHARED:
    case Isolation.SCHEMA:
    case Isolation.DATABASE:
      return isolation;
    default: {
      const unknown: never = isolation;
      throw badInput("isolation", `Unknown isolation ${String(unknown)}.`);
    }
  }
}
