import { describe, expect, it } from 'vitest';

import {
  axisPosition,
  axisTicks,
  buildAxis,
  chooseParamKeys,
  colorAt,
  linePath,
  niceTicks,
  tickLabel,
  type Axis,
} from './parallel';

describe('buildAxis', () => {
  it('makes a linear axis of numbers, text or not', () => {
    expect(buildAxis({ key: 'p', label: 'epochs', values: ['20', 30, null, '10'] })).toEqual({
      kind: 'numeric',
      key: 'p',
      label: 'epochs',
      min: 10,
      max: 30,
      log: false,
    });
  });

  it('makes a log axis of positive values spanning two decades', () => {
    const axis = buildAxis({ key: 'lr', label: 'lr', values: ['0.1', '0.01', '0.001'] });
    expect(axis).toMatchObject({ kind: 'numeric', log: true, min: 0.001, max: 0.1 });
    expect(buildAxis({ key: 'x', label: 'x', values: [0, 0.001, 0.1] })).toMatchObject({ log: false });
  });

  it('makes a categorical axis as soon as one value is text, in natural order', () => {
    expect(buildAxis({ key: 'k', label: 'k', values: ['rbf', 'linear', '2', 'layer10', 'layer2', 'rbf'] })).toEqual({
      kind: 'categorical',
      key: 'k',
      label: 'k',
      categories: ['2', 'layer2', 'layer10', 'linear', 'rbf'],
    });
  });

  it('makes no axis when no run has a value', () => {
    expect(buildAxis({ key: 'k', label: 'k', values: [null, null] })).toBeNull();
  });
});

describe('axisPosition', () => {
  const linear: Axis = { kind: 'numeric', key: 'a', label: 'a', min: 10, max: 30, log: false };
  const log: Axis = { kind: 'numeric', key: 'lr', label: 'lr', min: 0.001, max: 0.1, log: true };
  const categorical: Axis = { kind: 'categorical', key: 'k', label: 'k', categories: ['a', 'b', 'c'] };

  it('maps numbers linearly or by decades', () => {
    expect(axisPosition(linear, 10)).toBe(0);
    expect(axisPosition(linear, '20')).toBe(0.5);
    expect(axisPosition(linear, 30)).toBe(1);
    expect(axisPosition(log, 0.01)).toBeCloseTo(0.5);
    expect(axisPosition(log, '0.1')).toBeCloseTo(1);
  });

  it('spreads categories evenly', () => {
    expect(axisPosition(categorical, 'a')).toBe(0);
    expect(axisPosition(categorical, 'b')).toBe(0.5);
    expect(axisPosition(categorical, 'c')).toBe(1);
    expect(axisPosition({ ...categorical, categories: ['only'] }, 'only')).toBe(0.5);
  });

  it('puts a single value in the middle and has no place for missing values', () => {
    expect(axisPosition({ ...linear, max: 10 }, 10)).toBe(0.5);
    expect(axisPosition(linear, null)).toBeNull();
    expect(axisPosition(categorical, 'z')).toBeNull();
    expect(axisPosition(linear, 'abc')).toBeNull();
  });
});

describe('ticks', () => {
  it('picks round values', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(10, 30, 5)).toEqual([10, 15, 20, 25, 30]);
    expect(niceTicks(0.13, 0.91, 4)).toEqual([0.2, 0.4, 0.6, 0.8]);
    expect(niceTicks(3, 3)).toEqual([3]);
  });

  it('labels ticks short', () => {
    expect(tickLabel(0.001)).toBe('0.001');
    expect(tickLabel(0.0001)).toBe('1e-4');
    expect(tickLabel(250000)).toBe('3e5');
    expect(tickLabel(12.5)).toBe('12.5');
  });

  it('ticks a log axis at powers of ten', () => {
    const ticks = axisTicks({ kind: 'numeric', key: 'lr', label: 'lr', min: 0.001, max: 0.1, log: true });
    expect(ticks.map((t) => t.label)).toEqual(['0.001', '0.01', '0.1']);
    expect(ticks.map((t) => t.position)).toEqual([0, 0.5, 1].map((p) => expect.closeTo(p) as unknown as number));
  });

  it('ticks every category, and a single value once', () => {
    expect(axisTicks({ kind: 'categorical', key: 'k', label: 'k', categories: ['a', 'b'] })).toEqual([
      { position: 0, label: 'a' },
      { position: 1, label: 'b' },
    ]);
    expect(axisTicks({ kind: 'numeric', key: 'k', label: 'k', min: 2, max: 2, log: false })).toEqual([
      { position: 0.5, label: '2' },
    ]);
  });
});

describe('linePath', () => {
  it('draws through each axis from the top down', () => {
    expect(linePath([0, 0.5, 1], { xs: [0, 50, 100], top: 10, height: 100 })).toBe('M0,110 L50,60 L100,10');
  });

  it('lifts the pen where a value is missing', () => {
    expect(linePath([0, null, 1, 1], { xs: [0, 50, 100, 150], top: 0, height: 10 })).toBe('M0,10 M100,0 L150,0');
    expect(linePath([null, null], { xs: [0, 1], top: 0, height: 10 })).toBe('');
  });
});

describe('chooseParamKeys', () => {
  it('keeps the params that differ', () => {
    expect(chooseParamKeys([{ lr: '0.1', epochs: '20' }, { lr: '0.01', epochs: '20' }])).toEqual(['lr']);
  });

  it('keeps all params when none differ, up to the limit', () => {
    expect(chooseParamKeys([{ b: '1', a: '2' }, { b: '1', a: '2' }])).toEqual(['a', 'b']);
    expect(chooseParamKeys([{ a: '1', b: '1', c: '1' }], 2)).toEqual(['a', 'b']);
  });

  it('counts a param one run lacks as differing', () => {
    expect(chooseParamKeys([{ C: '1', lr: '0.1' }, { lr: '0.1' }])).toEqual(['C']);
  });
});

describe('colorAt', () => {
  it('runs from the first to the last stop and clamps outside', () => {
    expect(colorAt(0)).toBe('rgb(37, 99, 235)');
    expect(colorAt(1)).toBe('rgb(234, 88, 12)');
    expect(colorAt(-3)).toBe(colorAt(0));
    expect(colorAt(Number.NaN)).toBe(colorAt(0));
  });
});
