import { badInput } from "../../errors/index.js";

/** Trims `value` and checks its length; BAD_USER_INPUT naming `field` otherwise. */
export function requireText(field: string, value: string, max = 200): string {
  const text = value.trim();
  if (text.length === 0) throw badInput(field, `${field} must not be empty.`);
  if (text.length > max) throw badInput(field, `${field} must be at most ${max} characters.`);
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(text)) {
    throw badInput(field, `${field} must not contain control characters.`);
  }

  return text;
}

// Deliberately simple: one @, no spaces, a dot in the domain. Deliverability
// is the mail system's business, not the gateway's.
const EMAIL_PATTERN = /^[^\s@]{1,64}@[^\s@]{1,188}\.[^\s@]{2,63}$/;

export function requireEmail(field: string, value: string): string {
  const email = value.trim().toLowerCase();
  if (!EMAIL_PATTERN.test(email)) throw badInput(field, `${field} must be an email address.`);

  return email;
}

/** Checks a list of strings against `isValid`, dropping duplicates. */
export function requireList(
  field: string,
  values: readonly string[],
  isValid: (value: string) => boolean,
  max = 50,
): string[] {
  if (values.length > max) throw badInput(field, `${field} may hold at most ${max} entries.`);
  const bad = values.find((value) => !isValid(value));
  if (bad !== undefined) {
    throw badInput(field, `${field} holds an invalid entry: "${bad.slice(0, 60)}".`);
  }

  return [...new Set(values)];
}
