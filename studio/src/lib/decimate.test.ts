import { describe, expect, it } from 'vitest';

import { decimate, decimateIndices } from './decimate';

describe('decimateIndices', () => {
  it('keeps every point when there are few enough', () => {
    expect(decimateIndices([3, 1, 2], 10)).toEqual([0, 1, 2]);
    expect(decimateIndices([3, 1, 2], 3)).toEqual([0, 1, 2]);
  });

  it('keeps about max points, in order, first and last included', () => {
    const y = Array.from({ length: 100_000 }, (_, i) => Math.sin(i / 500));
    const keep = decimateIndices(y, 2000);
    expect(keep.length).toBeLessThanOrEqual(2001);
    expect(keep.length).toBeGreaterThan(1000);
    expect(keep[0]).toBe(0);
    expect(keep[keep.length - 1]).toBe(99_999);
    for (let i = 1; i < keep.length; i++) expect(keep[i]).toBeGreaterThan(keep[i - 1] as number);
  });

  it('keeps spikes that striding would drop', () => {
    const y = Array.from({ length: 10_000 }, () => 1);
    y[4321] = 1000;
    y[7777] = -1000;
    const keep = decimateIndices(y, 300);
    expect(keep).toContain(4321);
    expect(keep).toContain(7777);
  });

  it('ignores NaN for min/max but keeps a gap for an all-NaN bucket', () => {
    const y = Array.from({ length: 900 }, (_, i) => (i >= 300 && i < 600 ? Number.NaN : i));
    const keep = decimateIndices(y, 9); // 3 buckets of 300
    const values = keep.map((i) => y[i] as number);
    expect(values.some((v) => Number.isNaN(v))).toBe(true);
    expect(keep).toContain(0);
    expect(keep).toContain(299);
    expect(keep).toContain(899);
  });

  it('treats infinities like NaN (never a bucket minimum or maximum)', () => {
    const y = [1, Number.POSITIVE_INFINITY, 5, 2, Number.NEGATIVE_INFINITY, 0];
    const keep = decimateIndices(y, 3); // one bucket
    expect(keep).toEqual([0, 2, 5]);
  });
});

describe('decimate', () => {
  it('returns the same object when short enough', () => {
    const series = { x: [0, 1], y: [1, 2] };
    expect(decimate(series, 10)).toBe(series);
  });

  it('cuts x and y together', () => {
    const x = Array.from({ length: 3000 }, (_, i) => i * 10);
    const y = x.map((v) => v % 7);
    const out = decimate({ x, y }, 300);
    expect(out.x).toHaveLength(out.y.length);
    out.x.forEach((xv, i) => expect(out.y[i]).toBe((xv % 7)));
  });
});
