/**
 * The diff table of the Compare page, as pure data: one row per attribute, param, metric and tag,
 * one cell per run, whether the row's values differ, and which run holds a metric's best value.
 *
 * Params and tags travel as strings, so "0.10" and "0.1" are the same number: values that both read
 * as numbers compare as numbers, anything else compares as text. A value one run lacks differs from
 * any value another run has.
 */
import type { RunDetails } from '../api/client';
import { formatDateTime, formatDuration, runDuration, toMillis } from './format';

/** One cell's raw value; null when the run does not have it. */
export type CellValue = string | number | null;

export type RowKind = 'attribute' | 'param' | 'metric' | 'tag';

export type Direction = 'min' | 'max';

export interface DiffRow {
  /** Unique and stable: `attributes.status`, `params.lr`, `metrics.loss`, `tags.model`. */
  key: string;
  kind: RowKind;
  /** What the first column shows (the param, metric or tag name, or the attribute's label). */
  name: string;
  /** One per run, in the runs' order. */
  values: CellValue[];
  /** The text each cell shows. */
  display: string[];
  /** Every present value is a number: the row's cells align right. */
  numeric: boolean;
  differs: boolean;
  /** Metric rows: whether lower or higher is better. */
  direction?: Direction;
  /** Metric rows: the indices of the runs holding the best value (empty when there is nothing to pick). */
  best: number[];
}

const NUMBER_PATTERN = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/** A value as a number when it is one ("0.10", "1e-3", 3), else null. Empty text is not a number. */
export function asNumber(value: CellValue | undefined): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isNaN(value) ? null : value;
  const text = value.trim();
  if (!NUMBER_PATTERN.test(text)) return null;
  const number = Number(text);
  return Number.isFinite(number) ? number : null;
}

/** Whether two cells hold the same value: numerically when both are numbers, else as text. */
export function sameValue(a: CellValue | undefined, b: CellValue | undefined): boolean {
  const aMissing = a === null || a === undefined;
  const bMissing = b === null || b === undefined;
  if (aMissing || bMissing) return aMissing && bMissing;
  const x = asNumber(a);
  const y = asNumber(b);
  if (x !== null && y !== null) return x === y;
  if (typeof a === 'number' && typeof b === 'number') return Object.is(a, b); // NaN equals NaN here
  return String(a) === String(b);
}

/** Whether the values differ across runs (one run never differs from itself). */
export function valuesDiffer(values: readonly CellValue[]): boolean {
  if (values.length < 2) return false;
  const first = values[0];
  return values.some((value) => !sameValue(first, value));
}

const LOWER_IS_BETTER = /loss|error|err$|rmse|mae|mse|mape|perplexity|latency|wer\b|cer\b/i;

/** Lower is better for losses and errors (loss, error, rmse, mae, …); higher for everything else. */
export function metricDirection(name: string): Direction {
  return LOWER_IS_BETTER.test(name) ? 'min' : 'max';
}

/**
 * The indices of the runs holding the best value, ties included. Nothing is best when fewer than
 * two runs have a number or when all numbers are equal.
 */
export function bestIndices(values: readonly CellValue[], direction: Direction): number[] {
  const numbers = values.map(asNumber);
  const present = numbers.filter((n): n is number => n !== null);
  if (present.length < 2) return [];
  const best = direction === 'min' ? Math.min(...present) : Math.max(...present);
  if (present.every((n) => n === best)) return [];
  return numbers.flatMap((n, index) => (n === best ? [index] : []));
}

/**
 * Numbers written with the fewest significant digits (at least 4) that keep different values
 * apart: 0.123451 and 0.123459 must not both read 0.1235 on a row flagged as different.
 */
export function formatNumbers(values: readonly (number | null)[]): string[] {
  const distinct = new Set(values.filter((v): v is number => v !== null));
  for (let digits = 4; digits <= 15; digits += 1) {
    const texts = values.map((v) => (v === null ? '—' : formatSignificant(v, digits)));
    const seen = new Set(values.flatMap((v, i) => (v === null ? [] : [texts[i]])));
    if (seen.size === distinct.size) return texts;
  }
  return values.map((v) => (v === null ? '—' : String(v)));
}

function formatSignificant(value: number, digits: number): string {
  if (!Number.isFinite(value)) return value > 0 ? '∞' : value < 0 ? '−∞' : 'NaN';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e6 || magnitude < 1e-3) return value.toExponential(digits - 1).replace(/\.?0+e/, 'e');
  if (Number.isInteger(value)) return value.toString();
  return Number(value.toPrecision(digits)).toString();
}

/** Natural order for names: `layer2` before `layer10`. */
const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

function unionKeys(maps: readonly Record<string, unknown>[]): string[] {
  const keys = new Set<string>();
  for (const map of maps) for (const key of Object.keys(map)) keys.add(key);
  return [...keys].sort(collator.compare);
}

function makeRow(
  key: string,
  { kind, name, values, display }: { kind: RowKind; name: string; values: CellValue[]; display?: string[] },
): DiffRow {
  const present = values.filter((v) => v !== null);
  const numeric = present.length > 0 && present.every((v) => asNumber(v) !== null);
  const direction = kind === 'metric' ? metricDirection(name) : undefined;
  return {
    key,
    kind,
    name,
    values,
    display: display ?? values.map((v) => (v === null ? '—' : String(v))),
    numeric,
    differs: valuesDiffer(values),
    ...(direction ? { direction } : {}),
    best: direction ? bestIndices(values, direction) : [],
  };
}

/** A duration in seconds, cut to the precision `formatDuration` writes it with (ms, 0.1 s, s). */
export function shownDuration(seconds: number | null): number | null {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return null;
  if (seconds < 1) return Math.round(seconds * 1000) / 1000;
  if (seconds < 10) return Math.floor(seconds * 10) / 10;
  return Math.floor(seconds);
}

/**
 * The rows of the diff table for these runs: attributes (status, duration, user, created), then
 * every param, every metric (latest value) and every tag any run has, each group sorted by name.
 */
export function buildDiffRows(runs: readonly RunDetails[], now: number = Date.now()): DiffRow[] {
  const infos = runs.map((run) => run.info);
  const durations = infos.map((info) => runDuration(info, now));
  const rows: DiffRow[] = [
    makeRow('attributes.status', { kind: 'attribute', name: 'Status', values: infos.map((i) => i.status) }),
    makeRow('attributes.duration', {
      kind: 'attribute',
      name: 'Duration',
      // At the precision shown: two runs of "12 s" should not differ by milliseconds nobody sees.
      values: durations.map(shownDuration),
      display: durations.map((d) => formatDuration(d)),
    }),
    makeRow('attributes.user', { kind: 'attribute', name: 'User', values: infos.map((i) => i.user ?? null) }),
    makeRow('attributes.created', {
      kind: 'attribute',
      name: 'Created',
      // Whole seconds, as shown: runs created in the same second do not differ.
      values: infos.map((i) => {
        const millis = toMillis(i.created_time);
        return millis === null ? null : Math.floor(millis / 1000);
      }),
      display: infos.map((i) => formatDateTime(i.created_time) || '—'),
    }),
  ];
  // Dates and durations are numbers underneath but read as text.
  for (const row of rows) row.numeric = row.key === 'attributes.duration' && row.numeric;

  for (const key of unionKeys(runs.map((r) => r.params ?? {}))) {
    rows.push(makeRow(`params.${key}`, { kind: 'param', name: key, values: runs.map((r) => r.params?.[key] ?? null) }));
  }
  for (const key of unionKeys(runs.map((r) => r.metrics ?? {}))) {
    const values = runs.map((r) => r.metrics?.[key] ?? null);
    rows.push(makeRow(`metrics.${key}`, { kind: 'metric', name: key, values, display: formatNumbers(values) }));
  }
  for (const key of unionKeys(runs.map((r) => r.tags ?? {}))) {
    rows.push(makeRow(`tags.${key}`, { kind: 'tag', name: key, values: runs.map((r) => r.tags?.[key] ?? null) }));
  }
  return rows;
}

/** The rows to show: all of them, or only those that differ. */
export function visibleRows(rows: readonly DiffRow[], onlyDifferences: boolean): DiffRow[] {
  return onlyDifferences ? rows.filter((row) => row.differs) : [...rows];
}
