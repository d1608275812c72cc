import { describe, expect, it } from 'vitest';

import {
  applyCompletion,
  availableColumns,
  columnLabel,
  completions,
  decodeView,
  defaultColumns,
  encodeView,
  formatOrder,
  nextOrder,
  orderByFor,
  parseColumnId,
  parseOrder,
  quoteKey,
  quoteString,
  runIdFilter,
  sortDirection,
  toggleColumn,
  tokenAt,
} from './runsTable';

describe('column ids', () => {
  it.each([
    ['metrics.loss', { kind: 'metrics', key: 'loss' }],
    ['metrics.val.loss', { kind: 'metrics', key: 'val.loss' }],
    ['params.learning rate', { kind: 'params', key: 'learning rate' }],
    ['tags.team', { kind: 'tags', key: 'team' }],
    ['metric.acc', { kind: 'metrics', key: 'acc' }],
    ['attributes.created_time', { kind: 'attributes', key: 'created_time' }],
  ])('%s', (id, ref) => {
    expect(parseColumnId(id)).toEqual(ref);
  });

  it.each(['loss', '.loss', 'metrics.', 'widgets.x', ''])('%s is not a column', (id) => {
    expect(parseColumnId(id)).toBeNull();
  });

  it('labels attributes by name and others by key', () => {
    expect(columnLabel('attributes.created_time')).toBe('Created');
    expect(columnLabel('metrics.val.loss')).toBe('val.loss');
    expect(columnLabel('attributes.display_name')).toBe('Run');
  });
});

describe('quoting', () => {
  it('keeps bare keys bare and quotes the rest in backticks', () => {
    expect(quoteKey('val/loss:1')).toBe('val/loss:1');
    expect(quoteKey('learning rate')).toBe('`learning rate`');
    expect(quoteKey('a`b c')).toBe('`a``b c`');
  });

  it('escapes string literals', () => {
    expect(quoteString("it's")).toBe("'it\\'s'");
    expect(quoteString('a\\b')).toBe("'a\\\\b'");
    expect(runIdFilter(['a1', 'b2'])).toBe("attributes.run_id IN ('a1', 'b2')");
  });
});

describe('orders', () => {
  it('formats and parses', () => {
    expect(formatOrder({ column: 'metrics.loss', direction: 'ASC' })).toBe('metrics.loss ASC');
    expect(formatOrder({ column: 'params.learning rate', direction: 'DESC' })).toBe('params.`learning rate` DESC');
    expect(parseOrder('metrics.loss ASC')).toEqual({ column: 'metrics.loss', direction: 'ASC' });
    expect(parseOrder('params.`learning rate` desc')).toEqual({ column: 'params.learning rate', direction: 'DESC' });
    expect(parseOrder('tags.team')).toEqual({ column: 'tags.team', direction: 'ASC' });
    expect(parseOrder('metric."a b" DESC')).toEqual({ column: 'metrics.a b', direction: 'DESC' });
    expect(parseOrder('attributes.created_time DESC')).toEqual({
      column: 'attributes.created_time',
      direction: 'DESC',
    });
  });

  it.each(['', 'loss ASC', 'metrics.loss SIDEWAYS', 'widgets.x ASC', null])('%s is no order', (text) => {
    expect(parseOrder(text)).toBeNull();
  });

  it('round-trips through formatOrder', () => {
    for (const column of ['metrics.loss', 'params.a b', 'tags.x`y', 'attributes.duration']) {
      const order = { column, direction: 'DESC' as const };
      expect(parseOrder(formatOrder(order))).toEqual(order);
    }
  });

  it('builds order_by', () => {
    expect(orderByFor(null)).toEqual([]);
    expect(orderByFor({ column: 'metrics.loss', direction: 'DESC' })).toEqual(['metrics.loss DESC']);
  });

  it('cycles a column ascending, descending, then back to the default', () => {
    let order = nextOrder(null, 'metrics.loss');
    expect(order).toEqual({ column: 'metrics.loss', direction: 'ASC' });
    order = nextOrder(order, 'metrics.loss');
    expect(order).toEqual({ column: 'metrics.loss', direction: 'DESC' });
    expect(nextOrder(order, 'metrics.loss')).toBeNull();
    expect(nextOrder(order, 'params.lr')).toEqual({ column: 'params.lr', direction: 'ASC' });
  });

  it('knows the default order sorts by created time, newest first', () => {
    expect(sortDirection(null, 'attributes.created_time')).toBe('DESC');
    expect(sortDirection(null, 'metrics.loss')).toBeNull();
    const ascending = nextOrder(null, 'attributes.created_time');
    expect(ascending).toEqual({ column: 'attributes.created_time', direction: 'ASC' });
    expect(nextOrder(ascending, 'attributes.created_time')).toBeNull();
  });
});

describe('the view in the URL', () => {
  it('decodes defaults from an empty query', () => {
    expect(decodeView(new URLSearchParams(''))).toEqual({ filter: '', order: null, columns: null });
  });

  it('round-trips a view and keeps other parameters', () => {
    const view = {
      filter: "metrics.acc > 0.9 AND params.model = 'svm'",
      order: { column: 'params.learning rate', direction: 'DESC' as const },
      columns: ['attributes.status', 'metrics.acc', 'params.learning rate'],
    };
    const params = encodeView(view, new URLSearchParams('tab=runs'));
    expect(params.get('tab')).toBe('runs');
    expect(params.get('cols')).toBe('attributes.status,metrics.acc,params.learning rate');
    expect(decodeView(new URLSearchParams(params.toString()))).toEqual(view);
  });

  it('leaves defaults out and drops what it cannot read', () => {
    const params = encodeView(
      { filter: '  ', order: null, columns: null },
      new URLSearchParams('filter=x&order=metrics.a+ASC&cols=a'),
    );
    expect(params.toString()).toBe('');
    expect(decodeView(new URLSearchParams('cols=metrics.a,,bogus,tags.t&order=nonsense'))).toEqual({
      filter: '',
      order: null,
      columns: ['metrics.a', 'tags.t'],
    });
    expect(decodeView(new URLSearchParams('cols=')).columns).toEqual([]);
  });
});

describe('columns', () => {
  const keys = { metrics: ['acc', 'f1', 'loss', 'mse'], params: ['lr'], tags: ['team'] };

  it('shows attributes and the first metrics by default', () => {
    expect(defaultColumns(keys)).toEqual([
      'attributes.status',
      'attributes.created_time',
      'attributes.duration',
      'attributes.user',
      'metrics.acc',
      'metrics.f1',
      'metrics.loss',
    ]);
    expect(defaultColumns(undefined)).toHaveLength(4);
  });

  it('offers every key', () => {
    expect(availableColumns(keys).slice(4)).toEqual([
      'metrics.acc',
      'metrics.f1',
      'metrics.loss',
      'metrics.mse',
      'params.lr',
      'tags.team',
    ]);
  });

  it('toggles columns', () => {
    expect(toggleColumn(['a.x', 'a.y'], 'a.z', true)).toEqual(['a.x', 'a.y', 'a.z']);
    expect(toggleColumn(['a.x', 'a.y'], 'a.x', false)).toEqual(['a.y']);
    expect(toggleColumn(['a.x'], 'a.x', true)).toEqual(['a.x']);
  });
});

describe('filter completion', () => {
  const keys = { metrics: ['accuracy', 'loss', 'val_accuracy'], params: ['learning rate', 'lr'], tags: [] };

  it('finds the token under the caret', () => {
    expect(tokenAt('metrics.acc > 0.9 AND par', 25)).toEqual({ start: 22, end: 25, token: 'par' });
    expect(tokenAt("x IN ('a',met", 13)).toEqual({ start: 10, end: 13, token: 'met' });
  });

  it('offers entities, then keys', () => {
    expect(completions('me', keys)).toEqual(['metrics.']);
    expect(completions('metrics.acc', keys)).toEqual(['metrics.accuracy', 'metrics.val_accuracy']);
    expect(completions('params.l', keys)).toEqual(['params.`learning rate`', 'params.lr']);
    expect(completions('attributes.st', keys)).toEqual(['attributes.status', 'attributes.start_time']);
    expect(completions('', keys)).toEqual([]);
    expect(completions('metrics.loss', keys)).toEqual([]);
  });

  it('replaces the token', () => {
    expect(applyCompletion('metrics.acc > 1 AND me', 22, 'metrics.')).toEqual({
      text: 'metrics.acc > 1 AND metrics.',
      caret: 28,
    });
    expect(applyCompletion('metrics.ac > 1', 10, 'metrics.accuracy')).toEqual({
      text: 'metrics.accuracy > 1',
      caret: 16,
    });
  });
});
