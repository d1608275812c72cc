import { describe, expect, it } from 'vitest';

import { formatDuration, formatNumber, formatRelative, plural, runDuration, toMillis } from './format';

const NOW = Date.parse('2024-06-15T12:00:00Z');

describe('formatDuration', () => {
  it.each([
    [0.25, '250 ms'],
    [0, '0 ms'],
    [1.26, '1.2 s'],
    [12.9, '12 s'],
    [60, '1 min'],
    [185, '3 min 5 s'],
    [3600, '1 h'],
    [2 * 3600 + 4 * 60 + 59, '2 h 4 min'],
    [3 * 86400 + 2 * 3600, '3 d 2 h'],
    [86400, '1 d'],
  ])('%s s is %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it('writes a dash for what is not a duration', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(undefined)).toBe('—');
    expect(formatDuration(-1)).toBe('—');
    expect(formatDuration(Number.NaN)).toBe('—');
  });
});

describe('formatRelative', () => {
  const ago = (ms: number) => new Date(NOW - ms).toISOString();

  it.each([
    [10_000, 'just now'],
    [60_000, '1 min ago'],
    [5 * 60_000, '5 min ago'],
    [3 * 3_600_000, '3 h ago'],
    [30 * 3_600_000, 'yesterday'],
    [4 * 86_400_000, '4 days ago'],
  ])('%s ms ago reads %s', (ms, text) => {
    expect(formatRelative(ago(ms), NOW)).toBe(text);
  });

  it('speaks of the future too', () => {
    expect(formatRelative(new Date(NOW + 5 * 60_000).toISOString(), NOW)).toBe('in 5 min');
  });

  it('falls back to the date after a month', () => {
    const text = formatRelative('2024-01-02T00:00:00Z', NOW);
    expect(text).toMatch(/2024/);
    expect(text).not.toMatch(/ago/);
  });

  it('writes a dash for a missing or broken time', () => {
    expect(formatRelative(null, NOW)).toBe('—');
    expect(formatRelative('not a date', NOW)).toBe('—');
  });

  it('accepts the server ISO format with an offset', () => {
    expect(toMillis('2024-06-15T11:55:00+00:00')).toBe(NOW - 5 * 60_000);
  });
});

describe('runDuration', () => {
  it('is end minus start for a finished run', () => {
    expect(runDuration({ start_time: '2024-06-15T11:00:00Z', end_time: '2024-06-15T11:01:30Z' }, NOW)).toBe(90);
  });

  it('counts up to now while the run is running', () => {
    expect(runDuration({ start_time: '2024-06-15T11:59:00Z', end_time: null }, NOW)).toBe(60);
  });

  it('is null before the run starts', () => {
    expect(runDuration({ start_time: null }, NOW)).toBeNull();
  });
});

describe('formatNumber', () => {
  it.each([
    [0, '0'],
    [42, '42'],
    [0.123456, '0.1235'],
    [3.14159, '3.142'],
    [1234567, '1.235e+6'],
    [0.00001, '1e-5'],
    [Number.NaN, 'NaN'],
    [Infinity, '∞'],
    ['NaN', 'NaN'],
  ])('%s is written %s', (value, text) => {
    expect(formatNumber(value)).toBe(text);
  });
});

describe('plural', () => {
  it('agrees with the count', () => {
    expect(plural(1, 'run')).toBe('1 run');
    expect(plural(3, 'run')).toBe('3 runs');
    expect(plural(0, 'experiment')).toBe('0 experiments');
  });
});
