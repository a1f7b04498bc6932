/**
 * Value redaction of a finished JSON log line.
 *
 * pino's path redaction only knows keys named in advance, one level of
 * wildcard deep. Secrets also arrive inside text: a connection string in a
 * driver's error message, a bearer token quoted in a stack, `password=…` in
 * a libpq message. This scans the serialized line, which holds every string
 * of it (message, bindings, `err.message`, `err.stack`, nested objects), in
 * one pass, and replaces only the secret part of each match.
 *
 * It works on JSON text, so a replaced span never takes an unescaped `"`
 * and takes a `\` only with the character it escapes: the line stays valid
 * JSON.
 */

/** What a secret is replaced with; pino's path redaction writes the same. */
export const REDACTED = "[redacted]";

/** One JSON string character: anything but a quote or backslash, or an escape pair. */
const JSON_CHAR = String.raw`(?:[^"\\]|\\.)`;

/** Words that mark a field or setting as secret, also inside longer names (`dbPassword`). */
const SECRET_WORD = String.raw`(?:passw(?:or)?d|passphrase|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|authorization|credential|connection[_-]?string|database[_-]?url)`;

/**
 * A value written inside text: quoted (`\"…\"`, where a quote of its own is
 * `\\\"`), or up to a space, quote, separator or closing parenthesis.
 */
const TEXT_VALUE = String.raw`(?:\\"(?:\\\\\\"|[^"\\]|\\[^"])*\\"|(?:[^\s"\\&;,)]|\\[^"])+)`;

/** A name holding a secret word; the word may start the match, so no prefix is scanned. */
const SECRET_NAME = String.raw`${SECRET_WORD}[A-Za-z0-9_-]*`;

/**
 * The patterns, in one alternation so a line is scanned once. Each group
 * that must survive is captured; the replacer keeps those and drops the rest.
 */
const PATTERNS = [
  // 1. A JSON pair at any depth whose key names a secret: "dbPassword":"…".
  String.raw`"(?<pairKey>[A-Za-z0-9_-]*?${SECRET_NAME})":"${JSON_CHAR}*"`,
  // 2. A URL with a password: postgres://user:pass@host, redis://:pass@host.
  String.raw`(?<urlHead>\b[a-z][a-z0-9+.-]{1,30}:\/\/[^\s"\\/@:]*):(?:[^\s"\\/@]|\\.)+(?=@)`,
  // 3. An HTTP credential: "Bearer …", "Basic …".
  String.raw`(?<scheme>\b(?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]{8,}`,
  // 4. A JWT or JWS anywhere: a JSON header (eyJ…) and two more base64url parts.
  String.raw`\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`,
  // 5. A sealed value (src/crypto): <version>.<iv: 16>.<tag: 22>.<body>.
  String.raw`\b[a-z][0-9]\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]*`,
  // 6. A secret setting in text: password=…, "token: …", \"secret\":\"…\".
  //    The value may be quoted inside the text, and may start with a scheme.
  String.raw`(?<textKey>${SECRET_NAME}(?:\\")?\s*[=:]\s*(?:(?:bearer|basic)\s+)?)${TEXT_VALUE}`,
];

const SECRETS = new RegExp(PATTERNS.join("|"), "gi");

interface Groups {
  pairKey?: string;
  urlHead?: string;
  scheme?: string;
  textKey?: string;
}

function replaceSecret(...args: unknown[]): string {
  const groups = args[args.length - 1] as Groups;
  if (groups.pairKey !== undefined) return `"${groups.pairKey}":"${REDACTED}"`;
  if (groups.urlHead !== undefined) return `${groups.urlHead}:${REDACTED}`;
  if (groups.scheme !== undefined) return `${groups.scheme}${REDACTED}`;
  if (groups.textKey !== undefined) return `${groups.textKey}${REDACTED}`;

  return REDACTED;
}

/**
 * The line with every secret value replaced by {@link REDACTED}. Meant for
 * pino's `hooks.streamWrite`, so it sees each line once, as written.
 */
export function redactSecrets(line: string): string {
  return line.replace(SECRETS, replaceSecret);
}
