import { isIPv4, isIPv6 } from "node:net";

/** IPv4 mapped into IPv6, as Node reports it on a dual-stack socket. */
const MAPPED_IPV4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** The eight 16-bit groups of a valid IPv6 address, `::` and a dotted tail expanded. */
function hextetsOf(address: string): number[] {
  let text = address;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    const tail = `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
    text = text.slice(0, dotted.index) + tail;
  }

  const [head = "", tail = ""] = text.split("::");
  const groups = (part: string) => (part === "" ? [] : part.split(":"));
  const before = groups(head);
  const after = text.includes("::") ? groups(tail) : [];
  const zeros = Array<string>(8 - before.length - after.length).fill("0");

  return [...before, ...zeros, ...after].map((group) => parseInt(group, 16));
}

/**
 * The client address, or the part of it, that one anonymous budget covers:
 * an IPv4 address whole, and an IPv6 address by its /64 network, written
 * like `2001:db8:0:1::/64`. One IPv6 subscriber is usually handed a whole
 * /64, so counting each address alone would give a single client as many
 * budgets as it cares to pick addresses. IPv4 mapped into IPv6 counts as
 * the IPv4 address; a zone (`%eth0`) is dropped. Anything that is not an IP
 * address (no socket address at all) is kept as it came, or `unknown`.
 */
export function addressGroup(address: string | null): string {
  const bare = (address ?? "").trim().replace(/%.*$/, "");
  const mapped = MAPPED_IPV4.exec(bare);
  if (mapped) return mapped[1] as string;
  if (isIPv4(bare)) return bare;
  if (!isIPv6(bare)) return bare || "unknown";

  const hextets = hextetsOf(bare);
  // ::ffff:7f00:1 is the same IPv4 address in hexadecimal.
  if (hextets.slice(0, 5).every((h) => h === 0) && hextets[5] === 0xffff) {
    const [high = 0, low = 0] = hextets.slice(6);
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join(".");
  }

  return `${hextets
    .slice(0, 4)
    .map((h) => h.toString(16))
    .join(":")}::/64`;
}
