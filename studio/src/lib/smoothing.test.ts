import { describe, expect, it } from 'vitest';

import { clampSmoothing, smooth } from './smoothing';

describe('smooth', () => {
  it('returns the values unchanged with no smoothing', () => {
    expect(smooth([1, 5, 3], 0)).toEqual([1, 5, 3]);
  });

  it('starts on the data (debiased), not at zero', () => {
    const out = smooth([10, 10, 10, 10], 0.9);
    for (const value of out) expect(value).toBeCloseTo(10, 10);
  });

  it('matches the debiased EMA by hand', () => {
    const w = 0.5;
    const out = smooth([0, 2, 4], w);
    // last: 0, 1, 2.5; debias: 0.5, 0.75, 0.875
    expect(out[0]).toBeCloseTo(0);
    expect(out[1]).toBeCloseTo(1 / 0.75);
    expect(out[2]).toBeCloseTo(2.5 / 0.875);
  });

  it('lags behind a step and converges to it', () => {
    const values = [...Array<number>(50).fill(0), ...Array<number>(200).fill(1)];
    const out = smooth(values, 0.9);
    expect(out[50]).toBeLessThan(0.2);
    expect(out[249]).toBeCloseTo(1, 5);
  });

  it('passes NaN and infinities through without poisoning the rest', () => {
    const out = smooth([1, Number.NaN, 1, Number.POSITIVE_INFINITY, 1, Number.NEGATIVE_INFINITY, 1], 0.6);
    expect(out[1]).toBeNaN();
    expect(out[3]).toBe(Number.POSITIVE_INFINITY);
    expect(out[5]).toBe(Number.NEGATIVE_INFINITY);
    for (const i of [0, 2, 4, 6]) expect(out[i]).toBeCloseTo(1, 10);
  });

  it('handles a series that starts with NaN', () => {
    const out = smooth([Number.NaN, 3, 3], 0.8);
    expect(out[0]).toBeNaN();
    expect(out[1]).toBeCloseTo(3);
    expect(out[2]).toBeCloseTo(3);
  });

  it('is fast enough for 100,000 points', () => {
    const values = Array.from({ length: 100_000 }, (_, i) => Math.sin(i / 100) + Math.random());
    const started = performance.now();
    const out = smooth(values, 0.95);
    expect(out).toHaveLength(100_000);
    expect(performance.now() - started).toBeLessThan(200);
  });

  it('empty in, empty out', () => {
    expect(smooth([], 0.5)).toEqual([]);
  });
});

describe('clampSmoothing', () => {
  it('keeps weights in [0, 0.999]', () => {
    expect(clampSmoothing(-1)).toBe(0);
    expect(clampSmoothing(Number.NaN)).toBe(0);
    expect(clampSmoothing(0.6)).toBe(0.6);
    expect(clampSmoothing(1)).toBe(0.999);
    expect(clampSmoothing(5)).toBe(0.999);
  });
});
