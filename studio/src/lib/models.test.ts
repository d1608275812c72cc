import { describe, expect, it } from 'vitest';

import {
  ALIAS_PATTERN,
  aliasMoveNote,
  aliasSnippet,
  aliasesOf,
  flavorRows,
  frameworkLabel,
  matchesWords,
  modelFileUrl,
  modelUrl,
  parseModelSearch,
  resolveVersion,
  settingText,
  signatureColumns,
  signatureParts,
  tagTerm,
  toggleTerm,
  usageSnippet,
  versionLabel,
} from './models';

const versions = [
  { name: 'iris-clf', version: 3, aliases: [] },
  { name: 'iris-clf', version: 2, aliases: ['staging', 'candidate'] },
  { name: 'iris-clf', version: 1, aliases: ['production'] },
];

describe('links', () => {
  it('links a model, a version and a tab', () => {
    expect(modelUrl('iris-clf')).toBe('/models/iris-clf');
    expect(modelUrl('iris-clf', { version: 2 })).toBe('/models/iris-clf?version=2');
    expect(modelUrl('iris-clf', { version: 2, tab: 'files' })).toBe('/models/iris-clf/files?version=2');
    expect(modelUrl('a b', { tab: 'lineage' })).toBe('/models/a%20b/lineage');
  });

  it('encodes each segment of a file path, keeping the slashes', () => {
    expect(modelFileUrl('abc', 'model.pkl')).toBe('/api/v1/model-versions/abc/files/model.pkl');
    expect(modelFileUrl('abc', 'data/my file#1.bin')).toBe('/api/v1/model-versions/abc/files/data/my%20file%231.bin');
  });
});

describe('parseModelSearch', () => {
  it('splits tag filters from name words', () => {
    expect(parseModelSearch('  iris stage=prod   tag:reviewed ')).toEqual({
      tags: ['stage=prod', 'reviewed'],
      words: ['iris'],
    });
  });

  it('keeps key=value with an empty value and tag:key=value', () => {
    expect(parseModelSearch('flag= tag:team=vision')).toEqual({ tags: ['flag=', 'team=vision'], words: [] });
  });

  it('ignores terms still being typed and duplicates', () => {
    expect(parseModelSearch('=prod tag: Iris iris stage=a stage=a')).toEqual({ tags: ['stage=a'], words: ['iris'] });
    expect(parseModelSearch('')).toEqual({ tags: [], words: [] });
  });

  it('matches words against names and tag keys, every word', () => {
    const model = { name: 'Iris-CLF', version: 1, tags: { Stage: 'prod' } };
    expect(matchesWords(model, ['iris'])).toBe(true);
    expect(matchesWords(model, ['stage'])).toBe(true);
    expect(matchesWords(model, ['iris', 'wine'])).toBe(false);
    expect(matchesWords(model, ['prod'])).toBe(false); // values need key=value
    expect(matchesWords(model, [])).toBe(true);
  });

  it('turns a tag into a term and toggles it in the text', () => {
    expect(tagTerm('stage', 'prod')).toBe('stage=prod');
    expect(tagTerm('reviewed', '')).toBe('reviewed=');
    expect(tagTerm('note', 'two words')).toBe('tag:note');
    expect(tagTerm('bad key', 'x')).toBeNull();
    expect(toggleTerm('iris', 'stage=prod')).toBe('iris stage=prod');
    expect(toggleTerm(' iris  stage=prod ', 'stage=prod')).toBe('iris');
    expect(toggleTerm('', 'stage=prod')).toBe('stage=prod');
  });
});

describe('versions and aliases', () => {
  it('resolves the latest, a number or an alias', () => {
    expect(resolveVersion(versions, null)?.version).toBe(3);
    expect(resolveVersion(versions, '')?.version).toBe(3);
    expect(resolveVersion(versions, '2')?.version).toBe(2);
    expect(resolveVersion(versions, 'production')?.version).toBe(1);
    expect(resolveVersion(versions, '9')).toBeUndefined();
    expect(resolveVersion(versions, 'nope')).toBeUndefined();
    expect(resolveVersion([], null)).toBeUndefined();
  });

  it('labels a version with its aliases', () => {
    expect(versionLabel(versions[0]!, { latest: true })).toBe('v3 (latest)');
    expect(versionLabel(versions[1]!)).toBe('v2 · candidate, staging');
  });

  it('lists every alias of a model by name', () => {
    expect(aliasesOf(versions)).toEqual([
      ['candidate', 2],
      ['production', 1],
      ['staging', 2],
    ]);
  });

  it('says when setting an alias moves it', () => {
    expect(aliasMoveNote(versions, 'production', 3)).toBe('“production” is on v1; setting it here moves it to v3.');
    expect(aliasMoveNote(versions, 'production', 1)).toBeNull();
    expect(aliasMoveNote(versions, 'new', 3)).toBeNull();
  });

  it('accepts aliases the registry accepts', () => {
    expect(ALIAS_PATTERN.test('production')).toBe(true);
    expect(ALIAS_PATTERN.test('a_b-C9')).toBe(true);
    expect(ALIAS_PATTERN.test('9lives')).toBe(false);
    expect(ALIAS_PATTERN.test('has space')).toBe(false);
    expect(ALIAS_PATTERN.test('a'.repeat(64))).toBe(false);
  });
});

describe('framework and usage', () => {
  it('names the framework with its version, from the flavor when not given', () => {
    expect(frameworkLabel({ framework: 'sklearn', framework_version: '1.5.0' })).toBe('sklearn 1.5.0');
    expect(frameworkLabel({ framework: 'sklearn', flavors: { sklearn: { sklearn_version: '1.4.2' } } })).toBe('sklearn 1.4.2');
    expect(frameworkLabel({ framework: 'pytorch', flavors: {} })).toBe('pytorch');
    expect(frameworkLabel({ framework: null })).toBeNull();
  });

  it('writes the snippet that downloads the version', () => {
    const snippet = usageSnippet({ name: 'iris-clf', version: 2 });
    expect(snippet).toContain('model = ember.Model(ws, "iris-clf", version=2)');
    expect(snippet).toContain('model.download("./iris-clf")');
    expect(snippet).not.toContain('mlflow');
    expect(usageSnippet({ name: 'wine', version: 1, format: 'mlflow' })).toContain('mlflow.pyfunc.load_model(path)');
    expect(aliasSnippet('iris-clf', 'production')).toBe('model = ember.Model(ws, "iris-clf", version="production")');
  });
});

describe('MLflow flavors and signatures', () => {
  it('lists flavors with python_function first and settings sorted', () => {
    const rows = flavorRows({
      sklearn: { sklearn_version: '1.5.0', pickled_model: 'model.pkl', code: null },
      python_function: { loader_module: 'mlflow.sklearn', env: { conda: 'conda.yaml' } },
    });
    expect(rows.map((r) => r.name)).toEqual(['python_function', 'sklearn']);
    expect(rows[0]?.settings).toEqual([
      ['env.conda', 'conda.yaml'],
      ['loader_module', 'mlflow.sklearn'],
    ]);
    expect(rows[1]?.settings[0]).toEqual(['code', '—']);
    expect(flavorRows(undefined)).toEqual([]);
    expect(flavorRows({ onnx: { opset: [17], extra: {} } })[0]?.settings).toEqual([
      ['extra', '{}'],
      ['opset', '[17]'],
    ]);
    expect(settingText(3)).toBe('3');
  });

  it('reads column-based schemas', () => {
    expect(
      signatureColumns([
        { type: 'double', name: 'x' },
        { type: 'string', name: 'label', required: false },
      ]),
    ).toEqual([
      { name: 'x', type: 'double', required: true },
      { name: 'label', type: 'string', required: false },
    ]);
  });

  it('reads tensor specs and params', () => {
    expect(signatureColumns([{ type: 'tensor', 'tensor-spec': { dtype: 'float32', shape: [-1, 4] } }])).toEqual([
      { name: null, type: 'tensor', dtype: 'float32', shape: 'any × 4', required: true },
    ]);
    expect(signatureColumns([{ name: 'temperature', type: 'double', default: 0.5, shape: null }])).toEqual([
      { name: 'temperature', type: 'double', required: true, defaultValue: '0.5' },
    ]);
  });

  it('gives up on what is not a list of columns', () => {
    expect(signatureColumns('[{"type": "double"')).toBeNull();
    expect(signatureColumns([1, 2])).toBeNull();
    expect(signatureColumns({ inputs: [] })).toBeNull();
  });

  it('orders the parts of a signature as MLflow does', () => {
    expect(signatureParts({ params: [], outputs: [], inputs: [] }).map(([part]) => part)).toEqual(['inputs', 'outputs', 'params']);
    expect(signatureParts({ inputs: [], outputs: null }).map(([part]) => part)).toEqual(['inputs']);
    expect(signatureParts(null)).toEqual([]);
  });
});
