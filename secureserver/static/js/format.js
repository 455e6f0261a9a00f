// Formatting for people: sizes, speeds, durations, local times and short hashes.

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const integer = new Intl.NumberFormat();

/** Format a byte count as the server does: "0 B", "1000 B", "1.5 KiB", "3.2 GiB". */
export function humanSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes / 1024;
  let unit = 1;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** Format a transfer rate: "1.2 MiB/s". */
export function humanSpeed(bytesPerSecond) {
  return `${humanSize(Math.round(bytesPerSecond))}/s`;
}

/** Format a number of seconds left, coarsely: "5 s", "3 min 20 s", "2 h 5 min". */
export function humanDuration(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** Format an RFC 3339 time in the viewer's own time zone and locale. */
export function localTime(rfc3339) {
  return dateTime.format(new Date(rfc3339));
}

/** Format a count with the viewer's digit grouping: "10,000". */
export function count(n) {
  return integer.format(n);
}

/** "1 file", "3 files". */
export function plural(n, one, many) {
  return `${count(n)} ${n === 1 ? one : many}`;
}

/** The first characters of a hex digest, enough to tell files apart at a glance. */
export function shortHash(hex, length = 12) {
  return `${hex.slice(0, length)}…`;
}
