import { badInput } from "../../errors/index.js";

/**
 * Control characters (C0, DEL, C1) and the line and paragraph separators,
 * which break a line as surely as `\n` does.
 */
const CONTROL = /[\p{Cc}\p{Zl}\p{Zp}]/u;

/**
 * Bidirectional controls: embeddings, overrides and isolates (U+202A–U+202E,
 * U+2066–U+2069) and the marks U+200E, U+200F and U+061C. They reorder how
 * the text around them is shown, so a name can display as something else.
 */
const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/u;

/** Half of a surrogate pair without its other half: not text at all. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * What shows nothing on its own: white space, format characters (zero-width
 * space and joiners, soft hyphen, …), other default-ignorable characters
 * (Hangul fillers, variation selectors), combining marks with no base, and
 * the blank braille pattern, a favourite of invisible names.
 */
const INVISIBLE = /[\s\p{Z}\p{Cf}\p{Default_Ignorable_Code_Point}\p{M}\u2800]/gu;

/**
 * True when `text` holds nothing a name or title has no use for: no control
 * or bidirectional control characters, no broken surrogates.
 */
export function isPlainText(text: string): boolean {
  return !LONE_SURROGATE.test(text) && !CONTROL.test(text) && !BIDI_CONTROL.test(text);
}

/** Refuses characters no name, title or address has any use for. */
function refuseHiddenCharacters(field: string, text: string): void {
  if (LONE_SURROGATE.test(text)) throw badInput(field, `${field} must be well-formed text.`);
  if (CONTROL.test(text)) throw badInput(field, `${field} must not contain control characters.`);
  if (BIDI_CONTROL.test(text)) {
    throw badInput(field, `${field} must not contain bidirectional control characters.`);
  }
}

/**
 * Normalizes `value` to NFC, trims it and checks it: not empty, at most
 * `max` UTF-16 units, no control or bidirectional control characters, and
 * at least one visible character. BAD_USER_INPUT naming `field` otherwise.
 */
export function requireText(field: string, value: string, max = 200): string {
  const text = value.normalize("NFC").trim();
  if (text.length === 0) throw badInput(field, `${field} must not be empty.`);
  if (text.length > max) throw badInput(field, `${field} must be at most ${max} characters.`);
  refuseHiddenCharacters(field, text);
  if (text.replace(INVISIBLE, "").length === 0) {
    throw badInput(field, `${field} must contain a visible character.`);
  }

  return text;
}

// Deliberately simple: one @, no spaces, a dot in the domain. Deliverability
// is the mail system's business, not the gateway's.
const EMAIL_PATTERN = /^[^\s@]{1,64}@[^\s@]{1,188}\.[^\s@]{2,63}$/;

/** Format characters (zero-width ones, bidi controls, …): invisible in an address. */
const FORMAT = /\p{Cf}/u;

/**
 * Trims, lowercases and normalizes (NFC) an email address and checks its
 * shape. An address never holds control, format or bidirectional control
 * characters: each would make two addresses that look alike differ.
 */
export function requireEmail(field: string, value: string): string {
  const email = value.trim().toLowerCase().normalize("NFC");
  refuseHiddenCharacters(field, email);
  if (FORMAT.test(email)) {
    throw badInput(field, `${field} must not contain invisible formatting characters.`);
  }
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
