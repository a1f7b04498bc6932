/**
 * The tenant label of a `Host` header: `acme` for `acme.<baseDomain>`, with the port ignored
 * and ASCII case folded (host names are case-insensitive).
 *
 * Returns `undefined` when the host names no tenant: no host, the bare base domain, a deeper
 * name (`a.b.<baseDomain>`), another domain, an IP address or a bracketed IPv6 literal. The
 * label is returned as sent otherwise, so it may be malformed (`-x`, `ac_me`, or empty for
 * `.<baseDomain>`); {@link isTenantId} decides that, the caller reports it.
 */
export function tenantFromHost(host: string | undefined, baseDomain: string): string | undefined {
  if (host === undefined || host === "") return undefined;
  // `[::1]:4000`: an IPv6 literal never sits under a domain, and its colons are not a port.
  if (host.startsWith("[")) return undefined;

  const name = stripTrailingDot(lowerAscii(withoutPort(host)));
  const base = stripTrailingDot(lowerAscii(baseDomain));
  const suffix = `.${base}`;
  if (base === "" || !name.endsWith(suffix)) return undefined;

  const label = name.slice(0, -suffix.length);
  if (label.includes(".")) return undefined;

  return label;
}

function withoutPort(host: string): string {
  const colon = host.indexOf(":");

  return colon === -1 ? host : host.slice(0, colon);
}

/** `acme.localhost.` is the same host written fully qualified. */
function stripTrailingDot(name: string): string {
  return name.endsWith(".") ? name.slice(0, -1) : name;
}

/**
 * Folds only A–Z. `String.prototype.toLowerCase` maps some non-ASCII letters onto ASCII (the
 * Kelvin sign U+212A becomes `k`), which would let a look-alike host pass as a real tenant.
 */
function lowerAscii(value: string): string {
  return value.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}
