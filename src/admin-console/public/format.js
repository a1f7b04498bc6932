// Numbers and times as a person reads them; a missing value is a dash.

const DASH = "—";
const integer = new Intl.NumberFormat("en", { maximumFractionDigits: 0 });

export function formatCount(value) {
  return typeof value === "number" ? integer.format(value) : DASH;
}

/** A share between 0 and 1 (error rate, uptime) as a percentage. */
export function formatShare(value, digits = 1) {
  return typeof value === "number" ? `${(value * 100).toFixed(digits)}%` : DASH;
}

export function formatMilliseconds(value) {
  return typeof value === "number" ? `${integer.format(value)} ms` : DASH;
}

const BYTE_UNITS = ["B", "KB", "MB", "GB", "TB"];

export function formatBytes(value) {
  if (typeof value !== "number") return DASH;
  let size = value;
  let unit = 0;
  while (size >= 1024 && unit < BYTE_UNITS.length - 1) {
    size /= 1024;
    unit += 1;
  }

  return `${unit === 0 ? size : size.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

/** An ISO timestamp in the reader's local time, e.g. "4 Dec, 14:05:09". */
export function formatTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return DASH;

  return date.toLocaleString(undefined, {
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

/** A chart axis label: hours and minutes. */
export function formatClock(iso) {
  return new Date(iso).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}
