/**
 * How the studio writes times, durations and numbers. Pure functions: `now` is a parameter
 * (milliseconds since the epoch) so tests and server-rendered lists agree.
 */

type TimeInput = string | number | Date | null | undefined;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Milliseconds since the epoch, or null for a missing or unparseable time. */
export function toMillis(value: TimeInput): number | null {
  if (value === null || value === undefined || value === '') return null;
  const millis = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  return Number.isFinite(millis) ? millis : null;
}

/**
 * A duration in seconds, written the short way: `850 ms`, `12.5 s`, `3 min 5 s`, `2 h 4 min`, `3 d 2 h`.
 * Negative or missing durations are `—`.
 */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 10) return `${(Math.floor(seconds * 10) / 10).toString()} s`;
  if (seconds < 60) return `${Math.floor(seconds)} s`;
  const total = Math.floor(seconds);
  const days = Math.floor(total / 86400);
  const hours = Math.floor((total % 86400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = total % 60;
  if (days > 0) return hours > 0 ? `${days} d ${hours} h` : `${days} d`;
  if (hours > 0) return minutes > 0 ? `${hours} h ${minutes} min` : `${hours} h`;
  return secs > 0 ? `${minutes} min ${secs} s` : `${minutes} min`;
}

/**
 * How long ago (or, for a future time, in how long) something happened: `just now`, `5 min ago`,
 * `3 h ago`, `yesterday`, `4 days ago`; older than 30 days, the date (`12 Mar 2024`).
 */
export function formatRelative(value: TimeInput, now: number = Date.now()): string {
  const millis = toMillis(value);
  if (millis === null) return '—';
  const delta = now - millis;
  const future = delta < 0;
  const span = Math.abs(delta);
  const say = (text: string) => (future ? `in ${text}` : `${text} ago`);
  if (span < 45 * SECOND) return 'just now';
  if (span < 90 * SECOND) return say('1 min');
  if (span < HOUR) return say(`${Math.round(span / MINUTE)} min`);
  if (span < DAY) return say(`${Math.round(span / HOUR)} h`);
  if (span < 2 * DAY) return future ? 'tomorrow' : 'yesterday';
  if (span < 30 * DAY) return say(`${Math.floor(span / DAY)} days`);
  return formatDate(millis);
}

/** A calendar date in the user's locale, `12 Mar 2024`. */
export function formatDate(value: TimeInput): string {
  const millis = toMillis(value);
  if (millis === null) return '—';
  return new Date(millis).toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
}

/** A full local date and time, for tooltips (`title`) next to a relative time. */
export function formatDateTime(value: TimeInput): string {
  const millis = toMillis(value);
  if (millis === null) return '';
  return new Date(millis).toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

/**
 * Seconds a run took: end − start once it ended, now − start while it runs, null before it starts.
 */
export function runDuration(
  run: { start_time?: string | null; end_time?: string | null },
  now: number = Date.now(),
): number | null {
  const start = toMillis(run.start_time);
  if (start === null) return null;
  const end = toMillis(run.end_time) ?? now;
  return Math.max(0, (end - start) / 1000);
}

/** A metric value: up to 4 significant digits, exponent notation for very large or small numbers. */
export function formatNumber(value: number | string | null | undefined): string {
  if (value === null || value === undefined) return '—';
  const number = typeof value === 'string' ? Number(value) : value;
  if (Number.isNaN(number)) return 'NaN';
  if (number === Infinity) return '∞';
  if (number === -Infinity) return '−∞';
  if (number === 0) return '0';
  const magnitude = Math.abs(number);
  if (magnitude >= 1e6 || magnitude < 1e-3) return number.toExponential(3).replace(/\.?0+e/, 'e');
  if (Number.isInteger(number)) return number.toString();
  return Number(number.toPrecision(4)).toString();
}

/** `1 run`, `3 runs`. */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count.toLocaleString()} ${count === 1 ? singular : pluralForm}`;
}
