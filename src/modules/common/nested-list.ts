import { badInput } from "../../errors/index.js";

/**
 * Nested lists (a challenge's submissions, an organization's members, a
 * user's organizations) are never unbounded: loaders fetch at most this
 * many per parent, and a field's `first` may not ask for more.
 */
export const NESTED_LIST_MAX = 100;

/** Checks a nested list's `first`; BAD_USER_INPUT naming it otherwise. */
export function nestedListSize(first: number): number {
  if (!Number.isInteger(first) || first < 0 || first > NESTED_LIST_MAX) {
    throw badInput("first", `first must be a whole number from 0 to ${NESTED_LIST_MAX}.`);
  }

  return first;
}
