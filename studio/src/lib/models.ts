/**
 * Pure helpers of the model pages (pages/Models.tsx, pages/ModelDetail.tsx, pages/model/*): links,
 * the list's search terms, which version an address asks for, version labels, and how an MLflow
 * model's flavors and signature read.
 */
import { pythonString } from './data';

/** What the pages need of a model version (a structural subset of the API's `ModelInfo`). */
export interface ModelVersionLike {
  name: string;
  version: number;
  aliases?: string[];
  tags?: Record<string, string>;
}

// -- links -----------------------------------------------------------------------------------

/** The studio link to a model, one of its versions (`?version=`) and one of its tabs. */
export function modelUrl(name: string, options: { version?: number | null; tab?: string } = {}): string {
  const base = `/models/${encodeURIComponent(name)}${options.tab ? `/${options.tab}` : ''}`;
  return options.version ? `${base}?version=${options.version}` : base;
}

/** Where one file of a model version downloads from (the API's files endpoint, each segment encoded). */
export function modelFileUrl(modelId: string, path: string): string {
  const encoded = path
    .split('/')
    .map((part) => encodeURIComponent(part))
    .join('/');
  return `/api/v1/model-versions/${encodeURIComponent(modelId)}/files/${encoded}`;
}

// -- the list's search box -------------------------------------------------------------------

export interface ModelSearch {
  /** `KEY` or `KEY=VALUE` filters the server applies (`tag=` parameters): every one must hold. */
  tags: string[];
  /** Words every shown model's name (or one of its tag keys) must contain, lower-cased. */
  words: string[];
}

/**
 * The search box's text as filters: `key=value` and `tag:key` / `tag:key=value` are tag filters sent
 * to the server; any other word must appear in the model's name or be one of its tag keys (checked
 * here, since the server's name filter is exact). Duplicates are dropped, order kept.
 */
export function parseModelSearch(text: string): ModelSearch {
  const tags: string[] = [];
  const words: string[] = [];
  for (const raw of text.trim().split(/\s+/)) {
    if (raw === '') continue;
    const term = /^tag:/i.test(raw) ? raw.slice(4) : raw;
    const explicit = term !== raw;
    if (explicit || term.includes('=')) {
      // `=value` (no key) or a bare `tag:` is not a filter yet (still being typed).
      if (term === '' || term.startsWith('=')) continue;
      if (!tags.includes(term)) tags.push(term);
    } else {
      const word = term.toLowerCase();
      if (!words.includes(word)) words.push(word);
    }
  }
  return { tags, words };
}

/** Whether a model passes the search's words (name contains each, or it has a tag with that key). */
export function matchesWords(model: ModelVersionLike, words: readonly string[]): boolean {
  const name = model.name.toLowerCase();
  const keys = Object.keys(model.tags ?? {}).map((key) => key.toLowerCase());
  return words.every((word) => name.includes(word) || keys.includes(word));
}

/**
 * The search term that finds models with a tag: `stage=prod` (`reviewed=` for an empty value); `tag:key`
 * (any value) for a value with spaces, since terms are split on spaces. `null` for a key with spaces.
 */
export function tagTerm(key: string, value: string): string | null {
  if (key === '' || /\s/.test(key)) return null;
  return /\s/.test(value) ? `tag:${key}` : `${key}=${value}`;
}

/** The search text with `term` added (or removed when it is already there): what clicking a tag does. */
export function toggleTerm(text: string, term: string): string {
  const terms = text.trim().split(/\s+/).filter((t) => t !== '');
  return (terms.includes(term) ? terms.filter((t) => t !== term) : [...terms, term]).join(' ');
}

// -- versions and aliases --------------------------------------------------------------------

/** An alias as the registry accepts it: a letter, then letters, digits, `_` or `-` (63 at most). */
export const ALIAS_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;

/**
 * The version an address's `?version=` names among `versions` (newest first): a number, an alias, or
 * nothing for the latest. `undefined` when it names none of them (an unknown number or alias).
 */
export function resolveVersion<T extends ModelVersionLike>(versions: readonly T[], requested: string | null): T | undefined {
  if (requested === null || requested.trim() === '') return versions[0];
  const wanted = requested.trim();
  if (/^\d+$/.test(wanted)) return versions.find((v) => v.version === Number(wanted));
  return versions.find((v) => (v.aliases ?? []).includes(wanted));
}

/** A version in the picker: `v3 (latest) · production, staging`. */
export function versionLabel(model: ModelVersionLike, options: { latest?: boolean } = {}): string {
  const aliases = [...(model.aliases ?? [])].sort();
  const parts = [`v${model.version}${options.latest ? ' (latest)' : ''}`];
  if (aliases.length > 0) parts.push(aliases.join(', '));
  return parts.join(' · ');
}

/** Every alias of a model and the version it points at, by alias name. */
export function aliasesOf(versions: readonly ModelVersionLike[]): [string, number][] {
  return versions
    .flatMap((v) => (v.aliases ?? []).map((alias) => [alias, v.version] as [string, number]))
    .sort(([a], [b]) => a.localeCompare(b));
}

/** What setting `alias` on `version` does, in words, when it is already elsewhere: null if it is new or already here. */
export function aliasMoveNote(versions: readonly ModelVersionLike[], alias: string, version: number): string | null {
  const holder = versions.find((v) => (v.aliases ?? []).includes(alias));
  if (!holder || holder.version === version) return null;
  return `“${alias}” is on v${holder.version}; setting it here moves it to v${version}.`;
}

// -- framework and usage ---------------------------------------------------------------------

/**
 * The framework and its version (`sklearn 1.5.0`); an MLflow model's version comes from its flavor
 * (`sklearn_version`) when the registration gave none. `null` when nothing is known.
 */
export function frameworkLabel(model: {
  framework?: string | null;
  framework_version?: string | null;
  flavors?: Record<string, unknown>;
}): string | null {
  if (!model.framework) return null;
  let version = model.framework_version ?? null;
  if (!version) {
    const flavor = model.flavors?.[model.framework];
    const value = isRecord(flavor) ? flavor[`${model.framework}_version`] : undefined;
    if (typeof value === 'string' || typeof value === 'number') version = String(value);
  }
  return version ? `${model.framework} ${version}` : model.framework;
}

/** The Python lines that fetch this version and download its files (and load it, for an MLflow model). */
export function usageSnippet(model: ModelVersionLike & { format?: string }): string {
  const lines = [
    'import ember',
    '',
    'ws = ember.Workspace.from_config()',
    `model = ember.Model(ws, ${pythonString(model.name)}, version=${model.version})`,
    `path = model.download(${pythonString(`./${model.name}`)})`,
  ];
  if (model.format === 'mlflow') {
    lines.push('', '# an MLflow model: load it with MLflow', 'import mlflow.pyfunc', 'predictor = mlflow.pyfunc.load_model(path)');
  }
  return lines.join('\n');
}

/** The Python line that fetches whichever version an alias points at. */
export function aliasSnippet(name: string, alias: string): string {
  return `model = ember.Model(ws, ${pythonString(name)}, version=${pythonString(alias)})`;
}

// -- MLflow flavors and signatures -----------------------------------------------------------

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A flavor's setting as text: strings as they are, other JSON compactly; missing values `—`. */
export function settingText(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

export interface FlavorRow {
  name: string;
  /** The flavor's settings (`loader_module`, `sklearn_version`, …) by key, as text. */
  settings: [string, string][];
}

/** Settings by key, nested mappings flattened to dotted keys (`env.conda`), sorted. */
function flattenSettings(settings: Record<string, unknown>, prefix = ''): [string, string][] {
  return Object.entries(settings)
    .flatMap(([key, value]): [string, string][] =>
      isRecord(value) && Object.keys(value).length > 0
        ? flattenSettings(value, `${prefix}${key}.`)
        : [[`${prefix}${key}`, settingText(value)]],
    )
    .sort(([a], [b]) => a.localeCompare(b));
}

/**
 * An MLflow model's flavors, `python_function` first, each with its settings sorted by key (nested
 * mappings such as `env: {conda: ...}` as dotted keys: `env.conda`).
 */
export function flavorRows(flavors: Record<string, unknown> | null | undefined): FlavorRow[] {
  return Object.entries(flavors ?? {})
    .sort(([a], [b]) => (a === 'python_function' ? -1 : b === 'python_function' ? 1 : a.localeCompare(b)))
    .map(([name, settings]) => ({
      name,
      settings: isRecord(settings) ? flattenSettings(settings) : [['', settingText(settings)]],
    }));
}

export interface SignatureColumn {
  /** The column's name; `null` for an unnamed (positional) tensor. */
  name: string | null;
  /** `double`, `string`, … or `tensor`. */
  type: string;
  /** A tensor's element type (`float32`). */
  dtype?: string;
  /** A tensor's shape (`-1 × 4`; -1 is any length) or a param's. */
  shape?: string;
  required: boolean;
  /** A parameter's default value, as text. */
  defaultValue?: string;
}

function shapeText(shape: unknown): string | undefined {
  if (!Array.isArray(shape)) return undefined;
  return shape.map((n) => (n === -1 ? 'any' : String(n))).join(' × ');
}

/**
 * The columns of one part of an MLflow signature (`inputs`, `outputs` or `params`), which the API
 * sends as the JSON MLflow wrote: `[{"type": "double", "name": "x"}]`, tensors as
 * `{"type": "tensor", "tensor-spec": {"dtype", "shape"}}`. `null` when it is not such a list (MLflow
 * wrote something this does not know; show it raw).
 */
export function signatureColumns(schema: unknown): SignatureColumn[] | null {
  if (!Array.isArray(schema)) return null;
  const columns: SignatureColumn[] = [];
  for (const item of schema) {
    if (!isRecord(item)) return null;
    const type = typeof item['type'] === 'string' ? item['type'] : settingText(item['type']);
    const column: SignatureColumn = {
      name: typeof item['name'] === 'string' ? item['name'] : null,
      type,
      required: item['required'] !== false,
    };
    const spec = item['tensor-spec'];
    if (isRecord(spec)) {
      if (typeof spec['dtype'] === 'string') column.dtype = spec['dtype'];
      const shape = shapeText(spec['shape']);
      if (shape !== undefined) column.shape = shape;
    } else {
      const shape = shapeText(item['shape']);
      if (shape !== undefined) column.shape = shape;
    }
    if ('default' in item) column.defaultValue = settingText(item['default']);
    columns.push(column);
  }
  return columns;
}

/** The parts of a signature present, in MLflow's order: `inputs`, `outputs`, then `params`. */
export function signatureParts(signature: Record<string, unknown> | null | undefined): [string, unknown][] {
  if (!signature) return [];
  return (['inputs', 'outputs', 'params'] as const)
    .filter((key) => signature[key] !== undefined && signature[key] !== null)
    .map((key) => [key, signature[key]]);
}
