import { describe, expect, it } from 'vitest';

import { ancestors, buildTree, encodePath, formatBytes, highlightLanguage, looksLikeText, parseDelimited, previewKind } from './RunFiles';

describe('buildTree', () => {
  it('nests folders, folders first, sizes summed', () => {
    const tree = buildTree([
      { path: 'outputs/model.pkl', size: 10 },
      { path: 'train.py', size: 5 },
      { path: 'outputs/plots/loss.png', size: 20 },
      { path: 'README.md', size: 1 },
    ]);
    expect(tree.map((n) => n.name)).toEqual(['outputs', 'README.md', 'train.py']);
    const outputs = tree[0];
    expect(outputs?.size).toBe(30);
    expect(outputs?.children?.map((n) => n.path)).toEqual(['outputs/plots', 'outputs/model.pkl']);
    expect(outputs?.children?.[0]?.children?.[0]).toEqual({ name: 'loss.png', path: 'outputs/plots/loss.png', size: 20 });
  });

  it('sorts numbers naturally', () => {
    const tree = buildTree([{ path: 'e10.txt', size: 1 }, { path: 'e9.txt', size: 1 }]);
    expect(tree.map((n) => n.name)).toEqual(['e9.txt', 'e10.txt']);
  });

  it('is empty for no files', () => {
    expect(buildTree([])).toEqual([]);
  });
});

describe('file helpers', () => {
  it('lists the folders above a path', () => {
    expect(ancestors('a/b/c.txt')).toEqual(['a', 'a/b']);
    expect(ancestors('c.txt')).toEqual([]);
  });

  it('previews by kind and never inlines HTML or SVG', () => {
    expect(previewKind('outputs/plot.PNG')).toBe('image');
    expect(previewKind('metrics.json')).toBe('json');
    expect(previewKind('data/table.csv')).toBe('csv');
    expect(previewKind('user_logs/std_log.txt')).toBe('text');
    expect(previewKind('report.html')).toBe('not-inline');
    expect(previewKind('chart.svg')).toBe('not-inline');
    expect(previewKind('model.pkl')).toBe('unknown');
  });

  it('tells text from binary bytes', () => {
    expect(looksLikeText(new TextEncoder().encode('hello\nworld'))).toBe(true);
    expect(looksLikeText(new Uint8Array([0x50, 0x4b, 0x00, 0x01]))).toBe(false);
  });

  it('picks a registered highlight language', () => {
    expect(highlightLanguage('src/train.py')).toBe('python');
    expect(highlightLanguage('conda.yml')).toBe('yaml');
    expect(highlightLanguage('run.sh')).toBe('bash');
    expect(highlightLanguage('README.md')).toBe('markdown');
    expect(highlightLanguage('config.json')).toBe('json');
    expect(highlightLanguage('Makefile')).toBe('plaintext');
  });

  it('encodes path segments but keeps slashes', () => {
    expect(encodePath('outputs/my file#1.txt')).toBe('outputs/my%20file%231.txt');
  });

  it('writes sizes like ls -h', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(12 * 1024 * 1024)).toBe('12 MB');
  });
});

describe('parseDelimited', () => {
  it('reads quoted fields, doubled quotes, CRLF and a last line without newline', () => {
    expect(parseDelimited('a,b\r\n"x, y","say ""hi"""\n1,2')).toEqual([
      ['a', 'b'],
      ['x, y', 'say "hi"'],
      ['1', '2'],
    ]);
  });

  it('keeps newlines inside quotes and stops at maxRows', () => {
    expect(parseDelimited('"a\nb",c\n1,2\n3,4\n', { maxRows: 2 })).toEqual([
      ['a\nb', 'c'],
      ['1', '2'],
    ]);
  });

  it('reads TSV', () => {
    expect(parseDelimited('a\tb\n1\t2\n', { separator: '\t' })).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
  });
});
