/**
 * Scales, ticks and paths of the parallel-coordinates plot, as pure functions.
 *
 * Positions are fractions of an axis' height: 0 is the bottom, 1 the top. A numeric axis is linear,
 * or logarithmic when every value is positive and they span two decades or more (learning rates);
 * an axis with any value that is not a number is categorical, its categories in natural order.
 */
import { asNumber, valuesDiffer, type CellValue } from './diff';

export interface NumericAxis {
  kind: 'numeric';
  key: string;
  label: string;
  min: number;
  max: number;
  log: boolean;
}

export interface CategoricalAxis {
  kind: 'categorical';
  key: string;
  label: string;
  categories: string[];
}

export type Axis = NumericAxis | CategoricalAxis;

export interface Tick {
  position: number;
  label: string;
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/** An axis for these values (one per run), or null when no run has a value. */
export function buildAxis({
  key,
  label,
  values,
}: {
  key: string;
  label: string;
  values: readonly CellValue[];
}): Axis | null {
  const present = values.filter((v): v is string | number => v !== null);
  if (present.length === 0) return null;
  const numbers = present.map(asNumber);
  if (numbers.every((n): n is number => n !== null)) {
    const min = Math.min(...numbers);
    const max = Math.max(...numbers);
    const log = min > 0 && max / min >= 100;
    return { kind: 'numeric', key, label, min, max, log };
  }
  const categories = [...new Set(present.map(String))].sort(collator.compare);
  return { kind: 'categorical', key, label, categories };
}

/** Where a value sits on an axis (0 bottom … 1 top), or null when it is missing or not on the axis. */
export function axisPosition(axis: Axis, value: CellValue | undefined): number | null {
  if (value === null || value === undefined) return null;
  if (axis.kind === 'categorical') {
    const index = axis.categories.indexOf(String(value));
    if (index < 0) return null;
    return axis.categories.length === 1 ? 0.5 : index / (axis.categories.length - 1);
  }
  const number = asNumber(value);
  if (number === null) return null;
  if (axis.max === axis.min) return 0.5;
  if (axis.log) {
    if (number <= 0) return null;
    return (Math.log10(number) - Math.log10(axis.min)) / (Math.log10(axis.max) - Math.log10(axis.min));
  }
  return (number - axis.min) / (axis.max - axis.min);
}

/** Round tick values between min and max (1, 2 or 5 times a power of ten apart), about `count` of them. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) return [min];
  const span = max - min;
  // d3's rule: the raw step rounded to 1, 2, 5 or 10 times a power of ten, whichever is nearest.
  const rough = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(rough));
  const error = rough / power;
  const step = power * (error >= Math.sqrt(50) ? 10 : error >= Math.sqrt(10) ? 5 : error >= Math.sqrt(2) ? 2 : 1);
  const first = Math.ceil(min / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let value = first; value <= max + step * 1e-9; value += step) {
    // Strip float noise (0.30000000000000004) by rounding to the step's decimals.
    const decimals = Math.max(0, -Math.floor(Math.log10(step)));
    ticks.push(Number(value.toFixed(decimals)));
  }
  return ticks;
}

/** A tick label: short numbers, exponent notation for very large or small ones. */
export function tickLabel(value: number): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e5 || magnitude < 1e-3) return value.toExponential(0).replace('e+', 'e');
  return Number(value.toPrecision(4)).toString();
}

/** The ticks of an axis: every category, the powers of ten of a log axis, round values of a linear one. */
export function axisTicks(axis: Axis, count = 5): Tick[] {
  if (axis.kind === 'categorical') {
    return axis.categories.map((category) => ({ position: axisPosition(axis, category) ?? 0.5, label: category }));
  }
  if (axis.min === axis.max) return [{ position: 0.5, label: tickLabel(axis.min) }];
  let values: number[];
  if (axis.log) {
    values = [];
    for (let e = Math.ceil(Math.log10(axis.min) - 1e-9); e <= Math.floor(Math.log10(axis.max) + 1e-9); e += 1) {
      values.push(10 ** e);
    }
    // Too many decades: keep every other one. Too few powers inside: show the ends.
    while (values.length > count + 2) values = values.filter((_, i) => i % 2 === 0);
    if (values.length < 2) values = [axis.min, axis.max];
  } else {
    values = niceTicks(axis.min, axis.max, count);
    if (values.length < 2) values = [axis.min, axis.max];
  }
  return values.flatMap((value) => {
    const position = axisPosition(axis, value);
    return position === null ? [] : [{ position, label: tickLabel(value) }];
  });
}

/**
 * An SVG path through one point per axis (x per axis, y from the position), lifting the pen over
 * axes where the run has no value.
 */
export function linePath(
  positions: readonly (number | null)[],
  { xs, top, height }: { xs: readonly number[]; top: number; height: number },
): string {
  const parts: string[] = [];
  let drawing = false;
  positions.forEach((position, index) => {
    const x = xs[index];
    if (position === null || x === undefined) {
      drawing = false;
      return;
    }
    const y = top + (1 - position) * height;
    parts.push(`${drawing ? 'L' : 'M'}${round(x)},${round(y)}`);
    drawing = true;
  });
  return parts.join(' ');
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/**
 * The params worth an axis: those whose values differ across runs (all of them when none differ),
 * at most `limit`, in natural order.
 */
export function chooseParamKeys(params: readonly Record<string, string>[], limit = 12): string[] {
  const keys = [...new Set(params.flatMap((p) => Object.keys(p)))].sort(collator.compare);
  const differing = keys.filter((key) => valuesDiffer(params.map((p) => p[key] ?? null)));
  return (differing.length > 0 ? differing : keys).slice(0, limit);
}

/** Colour stops from low to high metric values; mid-luminance so both themes show them. */
export const COLOR_STOPS = ['#2563eb', '#7c3aed', '#c026d3', '#e11d48', '#ea580c'] as const;

/** The colour for a position 0…1 along the metric's range (a gradient through COLOR_STOPS). */
export function colorAt(t: number): string {
  const clamped = Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0;
  const scaled = clamped * (COLOR_STOPS.length - 1);
  const index = Math.min(COLOR_STOPS.length - 2, Math.floor(scaled));
  const from = hexToRgb(COLOR_STOPS[index] ?? COLOR_STOPS[0]);
  const to = hexToRgb(COLOR_STOPS[index + 1] ?? COLOR_STOPS[0]);
  const f = scaled - index;
  const mix = from.map((c, i) => Math.round(c + ((to[i] ?? c) - c) * f));
  return `rgb(${mix.join(', ')})`;
}

function hexToRgb(hex: string): number[] {
  const value = Number.parseInt(hex.slice(1), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}
