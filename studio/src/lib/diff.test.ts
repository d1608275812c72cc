import { describe, expect, it } from 'vitest';

import type { RunDetails } from '../api/client';
import {
  asNumber,
  bestIndices,
  buildDiffRows,
  formatNumbers,
  shownDuration,
  metricDirection,
  sameValue,
  valuesDiffer,
  visibleRows,
} from './diff';

const NOW = Date.parse('2024-06-15T12:00:00Z');

function run(id: string, parts: Partial<Omit<RunDetails, 'info'>> & { info?: Partial<RunDetails['info']> } = {}): RunDetails {
  return {
    info: {
      id,
      experiment_id: 'exp',
      status: 'Completed',
      created_time: '2024-06-15T10:00:00Z',
      start_time: '2024-06-15T10:00:00Z',
      end_time: '2024-06-15T10:01:00Z',
      user: 'ada',
      lifecycle_stage: 'active',
      run_type: 'interactive',
      ...parts.info,
    } as RunDetails['info'],
    params: parts.params ?? {},
    metrics: parts.metrics ?? {},
    tags: parts.tags ?? {},
    properties: {},
  };
}

describe('asNumber and sameValue', () => {
  it('reads numbers written as text', () => {
    expect(asNumber('0.10')).toBe(0.1);
    expect(asNumber(' 1e-3 ')).toBe(0.001);
    expect(asNumber(-2)).toBe(-2);
    expect(asNumber('.5')).toBe(0.5);
  });

  it('does not read text, empty strings or missing values as numbers', () => {
    expect(asNumber('rbf')).toBeNull();
    expect(asNumber('')).toBeNull();
    expect(asNumber('0x10')).toBeNull();
    expect(asNumber('1,000')).toBeNull();
    expect(asNumber(null)).toBeNull();
    expect(asNumber(undefined)).toBeNull();
  });

  it('compares numbers numerically and everything else as text', () => {
    expect(sameValue('0.10', '0.1')).toBe(true);
    expect(sameValue('1e-1', 0.1)).toBe(true);
    expect(sameValue('20', 20)).toBe(true);
    expect(sameValue('0.1', '0.01')).toBe(false);
    expect(sameValue('rbf', 'rbf')).toBe(true);
    expect(sameValue('rbf', 'RBF')).toBe(false);
    expect(sameValue('True', 'true')).toBe(false);
    expect(sameValue('', '0')).toBe(false);
  });

  it('treats a missing value as different from any present one', () => {
    expect(sameValue(null, null)).toBe(true);
    expect(sameValue(null, '')).toBe(false);
    expect(sameValue('0', null)).toBe(false);
    expect(valuesDiffer(['0.1', null, '0.1'])).toBe(true);
    expect(valuesDiffer([null, null])).toBe(false);
  });

  it('never finds a difference in a single run', () => {
    expect(valuesDiffer(['x'])).toBe(false);
    expect(valuesDiffer([])).toBe(false);
  });
});

describe('best values', () => {
  it.each([
    ['loss', 'min'],
    ['val_loss', 'min'],
    ['train/error_rate', 'min'],
    ['RMSE', 'min'],
    ['test_mae', 'min'],
    ['accuracy', 'max'],
    ['f1', 'max'],
    ['auc', 'max'],
  ])('%s: %s is better', (name, direction) => {
    expect(metricDirection(name)).toBe(direction);
  });

  it('picks the lowest or highest value, ties included, ignoring missing values', () => {
    expect(bestIndices([0.3, 0.1, null, 0.2], 'min')).toEqual([1]);
    expect(bestIndices([0.3, 0.1, null, 0.3], 'max')).toEqual([0, 3]);
    expect(bestIndices(['0.5', '0.50', 0.4], 'max')).toEqual([0, 1]);
  });

  it('marks nothing when there is nothing to choose from', () => {
    expect(bestIndices([0.3, null], 'min')).toEqual([]);
    expect(bestIndices([0.3, 0.3], 'min')).toEqual([]);
    expect(bestIndices([], 'max')).toEqual([]);
  });
});

describe('formatNumbers', () => {
  it('writes numbers short', () => {
    expect(formatNumbers([0.912345, 12, null, 1e-5])).toEqual(['0.9123', '12', '—', '1e-5']);
  });

  it('adds digits until different values read differently', () => {
    expect(formatNumbers([0.123451, 0.123459])).toEqual(['0.12345', '0.12346']);
    expect(formatNumbers([0.1234501, 0.1234502])).toEqual(['0.1234501', '0.1234502']);
    expect(formatNumbers([0.123451, 0.123451])).toEqual(['0.1235', '0.1235']);
  });
});

describe('shownDuration', () => {
  it('keeps the precision the table shows', () => {
    expect(shownDuration(0.0304)).toBe(0.03);
    expect(shownDuration(0.0184)).toBe(0.018);
    expect(shownDuration(1.26)).toBe(1.2);
    expect(shownDuration(12.9)).toBe(12);
    expect(shownDuration(null)).toBeNull();
  });

  it('makes runs that read the same not differ', () => {
    expect(valuesDiffer([shownDuration(12.2), shownDuration(12.9)])).toBe(false);
    expect(valuesDiffer([shownDuration(0.03), shownDuration(0.018)])).toBe(true);
  });
});

describe('buildDiffRows', () => {
  const runs = [
    run('a', { params: { lr: '0.10', epochs: '20', kernel: 'rbf' }, metrics: { loss: 0.5, accuracy: 0.9 }, tags: { model: 'svm' } }),
    run('b', {
      params: { lr: '0.1', epochs: '30' },
      metrics: { loss: 0.25, accuracy: 0.95 },
      tags: { model: 'svm' },
      info: { status: 'Failed', created_time: '2024-06-15T10:00:00.400Z', end_time: '2024-06-15T10:00:12Z' },
    }),
    run('c', { params: { lr: '0.01', epochs: '20' }, metrics: { loss: 0.75 }, info: { end_time: null, start_time: null } }),
  ];
  const rows = buildDiffRows(runs, NOW);
  const byKey = Object.fromEntries(rows.map((row) => [row.key, row]));

  it('has attributes, then params, metrics and tags, each sorted', () => {
    expect(rows.map((r) => r.key)).toEqual([
      'attributes.status',
      'attributes.duration',
      'attributes.user',
      'attributes.created',
      'params.epochs',
      'params.kernel',
      'params.lr',
      'metrics.accuracy',
      'metrics.loss',
      'tags.model',
    ]);
  });

  it('has one cell per run, with a dash where a run lacks the value', () => {
    expect(byKey['params.kernel']?.values).toEqual(['rbf', null, null]);
    expect(byKey['params.kernel']?.display).toEqual(['rbf', '—', '—']);
    expect(byKey['tags.model']?.values).toEqual(['svm', 'svm', null]);
    expect(byKey['attributes.duration']?.display).toEqual(['1 min', '12 s', '—']);
  });

  it('finds which rows differ', () => {
    expect(byKey['attributes.status']?.differs).toBe(true);
    expect(byKey['attributes.user']?.differs).toBe(false);
    expect(byKey['attributes.created']?.differs).toBe(false); // the same second, as shown
    expect(byKey['params.lr']?.differs).toBe(true); // 0.10 = 0.1, but 0.01 differs
    expect(byKey['params.epochs']?.differs).toBe(true);
    expect(byKey['params.kernel']?.differs).toBe(true);
    expect(byKey['tags.model']?.differs).toBe(true);
  });

  it('does not see "0.10" and "0.1" as different', () => {
    const two = buildDiffRows([runs[0] as RunDetails, runs[1] as RunDetails], NOW);
    expect(two.find((r) => r.key === 'params.lr')?.differs).toBe(false);
    expect(two.find((r) => r.key === 'tags.model')?.differs).toBe(false);
  });

  it('marks the best metric value by the metric name', () => {
    expect(byKey['metrics.loss']?.direction).toBe('min');
    expect(byKey['metrics.loss']?.best).toEqual([1]);
    expect(byKey['metrics.accuracy']?.direction).toBe('max');
    expect(byKey['metrics.accuracy']?.best).toEqual([1]);
    expect(byKey['params.lr']?.best).toEqual([]);
  });

  it('aligns numbers: params and metrics that are all numbers, not text or dates', () => {
    expect(byKey['params.lr']?.numeric).toBe(true);
    expect(byKey['params.kernel']?.numeric).toBe(false);
    expect(byKey['metrics.loss']?.numeric).toBe(true);
    expect(byKey['attributes.created']?.numeric).toBe(false);
    expect(byKey['attributes.duration']?.numeric).toBe(true);
  });

  it('keeps only the differing rows when asked', () => {
    const keys = visibleRows(rows, true).map((r) => r.key);
    expect(keys).not.toContain('attributes.user');
    expect(keys).toContain('params.lr');
    expect(visibleRows(rows, false)).toHaveLength(rows.length);
  });
});
