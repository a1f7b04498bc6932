/**
 * Value redaction of a finished JSON log line.
 *
 * pino's path redaction only knows keys named in advance, one level of
 * wildcard deep. Secrets also arrive inside text: a connection string in a
 * driver's error message, a bearer token quoted in a stack, `password=…` in
 * a libpq message, `{ pass: "…" }` in GraphQL's echo of a rejected
 * variable. This scans the serialized line, which holds every string of it
 * (message, bindings, `err.message`, `err.stack`, nested objects), in one
 * pass, and replaces only the secret part of each match.
 *
 * It works on JSON text, so a replaced span never takes an unescaped `"`
 * and takes a `\` only with the character it escapes: the line stays valid
 * JSON. A field whose name marks a secret loses its whole value, whatever
 * its type: a string, a number, an object or an array all become
 * `"[redacted]"` (only `null` is left).
 */

/** What a secret is replaced with; pino's path redaction writes the same. */
export const REDACTED = "[redacted]";

/** One JSON string character: anything but a quote or backslash, or an escape pair. */
const JSON_CHAR = String.raw`(?:[^"\\]|\\.)`;

/** Words that mark a field or setting as secret, also inside longer names (`dbPassword`). */
const STRONG_WORD = String.raw`(?:passw(?:or)?d|session[_-]?id|passphrase|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|authorization|credential|connection[_-]?string|database[_-]?url)`;

/**
 * Words that mark a name as secret only as a word of their own (`pass`,
 * `dbPass`, `DB_PASS`, `set-cookie`, `sessionId`), since they also occur
 * inside ordinary words (`passed`, `bypass`, `compass`). The scan finds
 * them anywhere; {@link isSecretName} then looks at the whole name.
 */
const WEAK_WORD = String.raw`(?:pass|session|cookie)`;

/**
 * A name holding a secret word; the word may start the match, so no prefix
 * is scanned. Names are bounded, so no text makes the scan go back and forth.
 */
const SECRET_NAME = String.raw`(?:${STRONG_WORD}|${WEAK_WORD})[A-Za-z0-9_-]{0,64}`;

/** The characters of a JSON key that may name a secret, `settings.secrets` included. */
const KEY_CHAR = String.raw`[A-Za-z0-9_.$-]`;

/**
 * Whitespace in text as the JSON line holds it: a space, or an escaped tab,
 * newline or carriage return (`\t`, `\n`, `\r`), so `Authorization:\nBearer …`
 * and `Bearer\t…` are seen as what they are.
 */
const WS = String.raw`(?:\s|\\[nrt])`;

/**
 * A value written inside text: double-quoted (`\"…\"`, where a quote of its
 * own is `\\\"`), single-quoted as libpq and Python write it (`'…'`, where a
 * quote of its own is `\\'`), spaces and all, and to the end of its string
 * when the quote is not closed; or up to a space, quote, separator or closing
 * parenthesis. An object or list (`{ … }`, `[ … ]`) is measured by hand, see
 * {@link endOfTextValue}. The quoted forms' alternatives never overlap, so
 * no text makes the scan go back and forth.
 */
const TEXT_VALUE = String.raw`(?:\\"(?:\\\\\\"|[^"\\]|\\[^"])*(?:\\"|(?="))|'(?:[^'"\\]|\\[^\\]|\\\\(?:[^"\\]|\\.))*(?:'|(?="))|(?:[^\s"\\&;,)]|\\[^"])+)`;

/**
 * HTTP authentication schemes kept in front of a redacted credential
 * (`Authorization: Token [redacted]`). After any other word the word and a
 * credential-like word after it both go: the word may be the credential.
 */
const AUTH_SCHEME = String.raw`(?:bearer|basic|digest|token|negotiate|ntlm|dpop|hoba|mutual|vapid|apikey|api-key|key|aws4-hmac-sha256|scram-sha-1|scram-sha-256)`;

/** Characters of a credential (RFC 7235 token68, and the separators key formats use). */
const CREDENTIAL_CHAR = String.raw`[A-Za-z0-9._~+/=-]`;

/**
 * API keys recognised by their prefix, whole: Stripe secret and restricted
 * keys, AWS access key ids, GitHub tokens, Slack tokens, Google API keys.
 * Not after a letter or digit, so a longer word that holds one is left
 * (checked by hand: a lookbehind would cost every position of every line).
 * The scan ignores case; a match is kept only when {@link API_KEY} (which
 * does not) agrees, so `AsiaPacificNortheast` is no AWS key.
 */
const KEY_FORMATS = String.raw`(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{8,}|(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])|(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|xox[abpr]-[A-Za-z0-9-]{8,}|AIza[A-Za-z0-9_-]{30,})`;

const API_KEY = new RegExp(`^${KEY_FORMATS}$`);

/** A PEM private key, to its END line or, cut short, to the end of its string. */
const PEM_KEY = String.raw`-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----${JSON_CHAR}*?(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----|(?="|$))`;

/**
 * The patterns, in one alternation so a line is scanned once. Each group
 * that must survive is captured; the replacer keeps those and drops the rest.
 */
const PATTERNS = [
  // 1. A JSON key at any depth that names a secret: "dbPassword":, "settings.secrets":.
  //    Its value, of any type, is measured by hand (endOfJsonValue).
  //    The key is taken whole at once (a lookahead, which is never gone back into), once
  //    a secret word is seen in it, so a key of any length costs one look.
  String.raw`"(?=${KEY_CHAR}*?(?:${STRONG_WORD}|${WEAK_WORD}))(?=(?<pairKey>${KEY_CHAR}*))\k<pairKey>":`,
  // 2. A URL with a password: postgres://user:pass@host, redis://:pass@host. The
  //    password runs to the last @ before the host: one may hold an @ (p@ss).
  String.raw`(?<urlHead>\b[a-z][a-z0-9+.-]{1,30}:\/\/[^\s"\\/@:]*):(?:[^\s"\\/]|\\.)+(?=@)`,
  // 3. An Authorization header or setting in text, whatever its scheme:
  //    "Authorization: Token …", "proxy-authorization=Custom …". Before 9, which
  //    would take the scheme word for the value; a quoted value is left to 9.
  //    After a known scheme the credential goes; after another word, the word and a
  //    credential-like word after it (not one that starts a URL or setting, `postgres:`).
  String.raw`(?<authKey>\b(?:proxy[_-]?)?authorization[A-Za-z0-9_-]{0,32}(?:\\")?${WS}*[=:]${WS}*)(?!\\")(?:(?<authScheme>${AUTH_SCHEME}${WS}+)${CREDENTIAL_CHAR}+|${CREDENTIAL_CHAR}+(?:${WS}+${CREDENTIAL_CHAR}{8,}(?![:A-Za-z0-9._~+/=-]))?)`,
  // 4. An HTTP credential: "Bearer …", "Basic …", "Bearer: …".
  String.raw`(?<scheme>\b(?:bearer:?|basic)${WS}+|\bbearer:)${CREDENTIAL_CHAR}{8,}`,
  // 5. An API key of a known format (Stripe, AWS, GitHub, Slack, Google), whole.
  String.raw`(?<apiKey>${KEY_FORMATS})`,
  // 6. A JWT or JWS anywhere: a JSON header (eyJ…) and two more base64url parts.
  String.raw`\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`,
  // 7. A sealed value (src/crypto): <version>.<iv: 16>.<tag: 22>.<body>.
  String.raw`\b[a-z][0-9]\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]*`,
  // 8. A PEM private key (RSA, EC, OPENSSH, ENCRYPTED, PKCS#8), whole.
  PEM_KEY,
  // 9. A secret setting in text: password=…, "token: …", \"secret\":\"…\", { pass: \"…\" }.
  //    The value may be quoted inside the text, and may start with a scheme.
  String.raw`(?<textKey>${SECRET_NAME}(?:\\"|')?${WS}*[=:]${WS}*(?:(?:bearer|basic)${WS}+)?)${TEXT_VALUE}`,
];

const SECRETS = new RegExp(PATTERNS.join("|"), "gi");

const STRONG_NAME = new RegExp(STRONG_WORD, "i");

/** A weak word as a word of the name: at its start or after a separator, or capitalized after a letter. */
const WEAK_NAME =
  /(?<![A-Za-z])(?:[Pp]ass|[Ss]essions?|[Cc]ookies?)(?![a-z])|(?<=[a-z0-9])(?:Pass|Sessions?|Cookies?)(?![a-z])|(?<![A-Za-z])(?:PASS|SESSIONS?|COOKIES?)(?![A-Za-z])/;

const NAME_CHAR = /[A-Za-z0-9_-]/;

interface Groups {
  pairKey?: string;
  urlHead?: string;
  authKey?: string;
  authScheme?: string;
  scheme?: string;
  apiKey?: string;
  textKey?: string;
}

/** Whether a field or setting of this name holds a secret. */
export function isSecretName(name: string): boolean {
  return STRONG_NAME.test(name) || WEAK_NAME.test(name);
}

/**
 * The line with every secret value replaced by {@link REDACTED}. Meant for
 * pino's `hooks.streamWrite`, so it sees each line once, as written.
 */
export function redactSecrets(line: string): string {
  SECRETS.lastIndex = 0;
  let out = "";
  let copied = 0;

  for (let match = SECRETS.exec(line); match; match = SECRETS.exec(line)) {
    const replacement = replacementOf(line, match);
    if (!replacement) {
      // Not a secret after all (`"passed":`, `bypass:`): look again one further on.
      SECRETS.lastIndex = match.index + 1;
      continue;
    }
    out += line.slice(copied, match.index) + replacement.text;
    copied = replacement.end;
    SECRETS.lastIndex = replacement.end;
  }

  return copied === 0 ? line : out + line.slice(copied);
}

/** What replaces `match` and where the replaced span ends; null to leave it. */
function replacementOf(line: string, match: RegExpExecArray): { text: string; end: number } | null {
  const groups = (match.groups ?? {}) as Groups;
  const matchEnd = match.index + match[0].length;

  if (groups.pairKey !== undefined) {
    if (!isSecretName(groups.pairKey) || line.startsWith("null", matchEnd)) return null;
    const end = endOfJsonValue(line, matchEnd);
    if (end < 0) return null;

    return { text: `"${groups.pairKey}":"${REDACTED}"`, end };
  }
  if (groups.urlHead !== undefined) return { text: `${groups.urlHead}:${REDACTED}`, end: matchEnd };
  if (groups.authKey !== undefined) {
    return { text: `${groups.authKey}${groups.authScheme ?? ""}${REDACTED}`, end: matchEnd };
  }
  if (groups.scheme !== undefined) return { text: `${groups.scheme}${REDACTED}`, end: matchEnd };
  if (groups.apiKey !== undefined && !isApiKey(line, match.index, groups.apiKey)) return null;
  if (groups.textKey !== undefined) {
    const name = /^[A-Za-z0-9_-]+/.exec(groups.textKey)?.[0] ?? "";
    if (!isSecretName(line.slice(nameStart(line, match.index), match.index) + name)) return null;
    const valueAt = match.index + groups.textKey.length;
    const opens = line[valueAt] === "{" || line[valueAt] === "[";

    return {
      text: `${groups.textKey}${REDACTED}`,
      end: opens ? endOfTextValue(line, valueAt) : matchEnd,
    };
  }

  return { text: REDACTED, end: matchEnd };
}

/** Whether a key-format match is one: its case agrees, and no letter or digit of the text precedes it. */
function isApiKey(line: string, index: number, key: string): boolean {
  const before = line[index - 1] ?? "";
  if (/[A-Za-z0-9]/.test(before) && !isEscaped(line, index - 1)) return false;

  return API_KEY.test(key);
}

/** Where the name that a match inside text starts in begins (`bypass` for a match at `pass`). */
function nameStart(line: string, index: number): number {
  let at = index;
  while (
    at > 0 &&
    index - at < 64 &&
    NAME_CHAR.test(line[at - 1] ?? "") &&
    !isEscaped(line, at - 1)
  )
    at -= 1;

  return at;
}

/** Whether the character at `at` is the second of a JSON escape (`n` of `\n`). */
function isEscaped(line: string, at: number): boolean {
  let backslashes = 0;
  for (let before = at - 1; before >= 0 && line[before] === "\\"; before -= 1) backslashes += 1;

  return backslashes % 2 === 1;
}

/** The end of the JSON string opening at `start`; -1 when it does not close. */
function endOfJsonString(line: string, start: number): number {
  for (let at = start + 1; at < line.length; at += 1) {
    if (line[at] === "\\") at += 1;
    else if (line[at] === '"') return at + 1;
  }

  return -1;
}

/** The end of the JSON value starting at `start` (any type); -1 when it does not end. */
function endOfJsonValue(line: string, start: number): number {
  const first = line[start];
  if (first === '"') return endOfJsonString(line, start);
  if (first !== "{" && first !== "[") {
    // A number, true or false: up to the next separator.
    let at = start;
    while (at < line.length && !",}]\n".includes(line[at] ?? "")) at += 1;

    return at > start ? at : -1;
  }

  let depth = 0;
  for (let at = start; at < line.length; at += 1) {
    const char = line[at];
    if (char === '"') {
      const end = endOfJsonString(line, at);
      if (end < 0) return -1;
      at = end - 1;
    } else if (char === "{" || char === "[") {
      depth += 1;
    } else if ((char === "}" || char === "]") && --depth === 0) {
      return at + 1;
    }
  }

  return -1;
}

/**
 * The end of an object or list written inside a JSON string (GraphQL's
 * `{ secrets: { a: "x" } }`): past its closing bracket, brackets inside
 * its quoted text not counted, or the end of the string when it is cut off.
 */
function endOfTextValue(line: string, start: number): number {
  let depth = 0;
  let quoted = false;
  for (let at = start; at < line.length; at += 1) {
    const char = line[at];
    // The JSON string ends here: redact no further.
    if (char === '"') return at;
    if (char === "\\") {
      const next = line[at + 1];
      if (next === '"') quoted = !quoted;
      // A backslash of the text escaping a quote of the text (`\\\"`): no quote.
      else if (next === "\\" && line[at + 2] === "\\" && line[at + 3] === '"') at += 2;
      at += 1;
      continue;
    }
    if (quoted) continue;
    if (char === "{" || char === "[") depth += 1;
    else if ((char === "}" || char === "]") && --depth === 0) return at + 1;
  }

  return line.length;
}
