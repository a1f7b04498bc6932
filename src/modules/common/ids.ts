import { v7 as uuidv7 } from "uuid";

/**
 * New row ids are UUID v7: time-ordered, so ordering by id is ordering by
 * creation, which keyset pagination relies on.
 */
export function newId(): string {
  return uuidv7();
}
