import { describe, expect, it } from 'vitest';

import {
  baseName,
  breadcrumbs,
  characterName,
  credentialLabel,
  datasetUrl,
  datastoreFolderUrl,
  datastoreKindLabel,
  describeParse,
  describeTransform,
  epochSecondsToIso,
  formatCell,
  formatShare,
  formatValue,
  globRoot,
  histogramBars,
  isNumericType,
  normalizePath,
  parentPath,
  pythonString,
  quantileRows,
  topValueShares,
} from './data';

describe('paths', () => {
  it('normalizes slashes away', () => {
    expect(normalizePath('/iris//2024/')).toBe('iris/2024');
    expect(normalizePath('./a/./b')).toBe('a/b');
    expect(normalizePath(null)).toBe('');
  });

  it('splits a folder into breadcrumbs from the root', () => {
    expect(breadcrumbs('iris/2024', 'raw')).toEqual([
      { name: 'raw', path: '' },
      { name: 'iris', path: 'iris' },
      { name: '2024', path: 'iris/2024' },
    ]);
    expect(breadcrumbs('', 'raw')).toEqual([{ name: 'raw', path: '' }]);
    expect(breadcrumbs('/a/', 'raw')).toEqual([
      { name: 'raw', path: '' },
      { name: 'a', path: 'a' },
    ]);
  });

  it('names the last segment and the parent', () => {
    expect(baseName('iris/2024/a.csv')).toBe('a.csv');
    expect(baseName('a.csv')).toBe('a.csv');
    expect(baseName('')).toBe('');
    expect(parentPath('iris/2024/a.csv')).toBe('iris/2024');
    expect(parentPath('a.csv')).toBe('');
  });

  it('finds the folder a glob starts from', () => {
    expect(globRoot('iris/2024/*.csv')).toBe('iris/2024');
    expect(globRoot('iris/**/part-?.csv')).toBe('iris');
    expect(globRoot('*.csv')).toBe('');
    expect(globRoot('data/a.csv')).toBe('data');
    expect(globRoot('images')).toBe('');
  });

  it('links to folders of a datastore and to datasets', () => {
    expect(datastoreFolderUrl('raw', '')).toBe('/datastores/raw');
    expect(datastoreFolderUrl('raw', '/iris/2024/')).toBe('/datastores/raw?path=iris%2F2024');
    expect(datastoreFolderUrl('my store', 'a b')).toBe('/datastores/my%20store?path=a+b');
    expect(datasetUrl('iris')).toBe('/datasets/iris');
    expect(datasetUrl('iris', { version: 2 })).toBe('/datasets/iris?version=2');
    expect(datasetUrl('iris', { version: 2, tab: 'profile' })).toBe('/datasets/iris/profile?version=2');
  });

  it('turns epoch seconds into an ISO time', () => {
    expect(epochSecondsToIso(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(epochSecondsToIso(1718452800.5)).toBe('2024-06-15T12:00:00.500Z');
    expect(epochSecondsToIso(null)).toBeNull();
    expect(epochSecondsToIso(Number.NaN)).toBeNull();
  });
});

describe('labels', () => {
  it('names datastore kinds and credentials', () => {
    expect(datastoreKindLabel('azure_blob')).toBe('Azure Blob');
    expect(datastoreKindLabel('local')).toBe('Local folder');
    expect(datastoreKindLabel('ftp')).toBe('ftp');
    expect(credentialLabel('sas_token')).toBe('SAS token');
    expect(credentialLabel(undefined)).toBe('none');
    expect(credentialLabel('keys', true)).toBe('access keys (passthrough)');
  });

  it('describes every transform', () => {
    expect(describeTransform({ op: 'take', count: 1000 })).toBe('take the first 1,000 rows');
    expect(describeTransform({ op: 'skip', count: 2 })).toBe('skip the first 2 rows');
    expect(describeTransform({ op: 'keep_columns', columns: ['a', 'b'] })).toBe('keep columns a, b');
    expect(describeTransform({ op: 'drop_columns', columns: ['c'] })).toBe('drop columns c');
    expect(describeTransform({ op: 'filter', expression: 'x > 1' })).toBe('filter: x > 1');
    expect(describeTransform({ op: 'random_split', fraction: 0.8, seed: 7, side: 'left' })).toBe(
      'random split: the 80% side (seed 7)',
    );
    expect(describeTransform({ op: 'random_split', fraction: 0.8, seed: 7, side: 'right' })).toBe(
      'random split: the other 20% (seed 7)',
    );
    expect(describeTransform({ op: 'take_sample', probability: 0.1, seed: 0 })).toBe('sample 10% of the rows (seed 0)');
  });

  it('lists the parse options of delimited files', () => {
    const rows = describeParse(
      { separator: '\t', header: true, encoding: 'utf-8', quote_char: '"', skip_rows: 0, null_values: ['NA'], set_column_types: { id: 'int' } },
      'delimited',
    );
    expect(rows).toEqual([
      ['Separator', 'tab (\\t)'],
      ['Header row', 'yes'],
      ['Encoding', 'utf-8'],
      ['Quote character', 'double quote ( " )'],
      ['Null values', '"NA"'],
      ['Column types', 'id: int'],
    ]);
  });

  it('names separator characters', () => {
    expect(characterName(',')).toBe('comma ( , )');
    expect(characterName(' ')).toBe('space');
    expect(characterName('~')).toBe('~');
  });

  it('leaves delimited-only options out for other formats', () => {
    expect(describeParse({ separator: ',', header: true }, 'parquet')).toEqual([]);
    expect(describeParse({ include_path: true }, 'json_lines')).toEqual([
      ['Path column', 'yes (each row says the file it came from)'],
    ]);
    expect(describeParse(undefined, null)).toEqual([]);
  });
});

describe('values', () => {
  it('formats profile values', () => {
    expect(formatValue(3.14159)).toBe('3.142');
    expect(formatValue('setosa')).toBe('setosa');
    expect(formatValue(null)).toBe('—');
    expect(formatValue(true)).toBe('true');
    expect(formatValue({ a: 1 })).toBe('{"a":1}');
  });

  it('tells numeric column types', () => {
    for (const type of ['int64', 'double', 'float', 'uint8', 'decimal128(10, 2)']) expect(isNumericType(type)).toBe(true);
    for (const type of ['string', 'bool', 'timestamp[us]', 'date32']) expect(isNumericType(type)).toBe(false);
  });

  it('shows preview cells in full, nulls as null', () => {
    expect(formatCell(3.14159)).toBe('3.14159');
    expect(formatCell(null)).toBe('null');
    expect(formatCell('x')).toBe('x');
    expect(formatCell([1, 2])).toBe('[1,2]');
  });

  it('writes shares as percentages', () => {
    expect(formatShare(3, 8)).toBe('37.5%');
    expect(formatShare(0, 8)).toBe('0%');
    expect(formatShare(1, 100000)).toBe('<0.1%');
    expect(formatShare(1, 0)).toBe('—');
  });

  it('sorts quantiles and labels them as percentiles', () => {
    expect(quantileRows({ '0.75': 6.4, '0.25': 5.1, '0.5': 5.8 })).toEqual([
      ['25%', 5.1],
      ['50%', 5.8],
      ['75%', 6.4],
    ]);
    expect(quantileRows({ '0.999': 1 })).toEqual([['99.9%', 1]]);
    expect(quantileRows(null)).toEqual([]);
  });
});

describe('histogramBars', () => {
  it('scales bars to the fullest bin', () => {
    const bars = histogramBars(
      [
        [0, 1, 2],
        [1, 2, 4],
        [2, 3, 0],
        [3, 4, 1],
      ],
      { width: 100, height: 40, gap: 2, minHeight: 3 },
    );
    expect(bars.map((bar) => bar.x)).toEqual([0, 25, 50, 75]);
    expect(bars.map((bar) => bar.width)).toEqual([23, 23, 23, 23]);
    expect(bars.map((bar) => bar.height)).toEqual([20, 40, 0, 10]);
    expect(bars.map((bar) => bar.y)).toEqual([20, 0, 40, 30]);
    expect(bars[1]).toMatchObject({ low: 1, high: 2, count: 4 });
  });

  it('keeps a bin of one row visible', () => {
    const bars = histogramBars(
      [
        [0, 1, 1000],
        [1, 2, 1],
      ],
      { width: 10, height: 50, minHeight: 2 },
    );
    expect(bars[1]?.height).toBe(2);
  });

  it('draws nothing for no bins or only empty ones', () => {
    expect(histogramBars([], { width: 10, height: 10 })).toEqual([]);
    expect(histogramBars([[0, 1, 0]], { width: 10, height: 10 }).map((bar) => bar.height)).toEqual([0]);
  });
});

describe('topValueShares', () => {
  it('makes the most frequent value the full bar', () => {
    expect(
      topValueShares([
        ['virginica', 4],
        ['setosa', 2],
        [null, 1],
      ]),
    ).toEqual([
      { label: 'virginica', count: 4, share: 1 },
      { label: 'setosa', count: 2, share: 0.5 },
      { label: '—', count: 1, share: 0.25 },
    ]);
  });
});

describe('pythonString', () => {
  it('quotes and escapes', () => {
    expect(pythonString('iris')).toBe('"iris"');
    expect(pythonString('a "b"\\c')).toBe('"a \\"b\\"\\\\c"');
  });
});
