/**
 * Pure helpers of the data pages (datastores and datasets): folder paths and their breadcrumbs,
 * how a profile's values, a transform or a parse option read, and the bars of a histogram.
 */
import { formatNumber } from './format';

// -- paths -----------------------------------------------------------------------------------

/** A path inside a datastore without leading, trailing or doubled slashes (`/a//b/` → `a/b`). */
export function normalizePath(path: string | null | undefined): string {
  return (path ?? '')
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/');
}

/** Whether a column type (as the preview and profile name them) holds numbers, to align it right. */
export function isNumericType(type: string | null | undefined): boolean {
  return /^(u?int\d*|float\d*|double|decimal.*|halffloat|number|integer)$/i.test((type ?? '').trim());
}

/** The last segment of a path (`iris/2024/a.csv` → `a.csv`); the root is ``. */
export function baseName(path: string): string {
  const parts = normalizePath(path).split('/');
  return parts[parts.length - 1] ?? '';
}

/** The folder holding a path (`iris/2024/a.csv` → `iris/2024`); the root's parent is the root. */
export function parentPath(path: string): string {
  const parts = normalizePath(path).split('/');
  return parts.slice(0, -1).join('/');
}

export interface Crumb {
  /** What the breadcrumb shows. */
  name: string;
  /** The folder it leads to (`` for the root). */
  path: string;
}

/**
 * The breadcrumbs of a folder: the root (named `rootName`) and then every folder down to `path`
 * (`iris/2024` → root, `iris`, `iris/2024`).
 */
export function breadcrumbs(path: string, rootName: string): Crumb[] {
  const parts = normalizePath(path).split('/').filter((part) => part !== '');
  return [{ name: rootName, path: '' }, ...parts.map((name, index) => ({ name, path: parts.slice(0, index + 1).join('/') }))];
}

/**
 * The folder a glob starts from: the segments before the first one with a wildcard
 * (`iris/2024/*.csv` → `iris/2024`, `*.csv` → ``); for a plain file path, its folder (`data/a.csv` → `data`).
 */
export function globRoot(path: string): string {
  const parts = normalizePath(path).split('/').filter((part) => part !== '');
  const wild = parts.findIndex((part) => /[*?[]/.test(part));
  if (wild === -1) return parts.slice(0, -1).join('/');
  return parts.slice(0, wild).join('/');
}

/** The studio link to a folder of a datastore (its root without `?path=`). */
export function datastoreFolderUrl(name: string, path: string): string {
  const folder = normalizePath(path);
  const base = `/datastores/${encodeURIComponent(name)}`;
  return folder ? `${base}?${new URLSearchParams({ path: folder }).toString()}` : base;
}

/** The studio link to a dataset, one of its versions (`?version=`) and one of its tabs. */
export function datasetUrl(name: string, options: { version?: number | null; tab?: string } = {}): string {
  const base = `/datasets/${encodeURIComponent(name)}${options.tab ? `/${options.tab}` : ''}`;
  return options.version ? `${base}?version=${options.version}` : base;
}

/** A datastore's modification time (seconds since the epoch) as an ISO string, or null. */
export function epochSecondsToIso(seconds: number | null | undefined): string | null {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return null;
  return new Date(seconds * 1000).toISOString();
}

// -- labels ----------------------------------------------------------------------------------

const DATASTORE_KINDS: Record<string, string> = {
  workspace: 'Workspace',
  local: 'Local folder',
  s3: 'Amazon S3',
  azure_blob: 'Azure Blob',
};

/** How a datastore's kind reads (`azure_blob` → `Azure Blob`). */
export function datastoreKindLabel(kind: string): string {
  return DATASTORE_KINDS[kind] ?? kind;
}

const CREDENTIALS: Record<string, string> = {
  none: 'none',
  keys: 'access keys',
  account_key: 'account key',
  sas_token: 'SAS token',
  ambient: "the server's own",
};

/** How a datastore's credential type reads, with passthrough (each user's own identity) said. */
export function credentialLabel(type: string | null | undefined, passthrough = false): string {
  const label = CREDENTIALS[type ?? 'none'] ?? String(type);
  return passthrough ? `${label} (passthrough)` : label;
}

const FORMATS: Record<string, string> = {
  delimited: 'delimited text (CSV/TSV)',
  parquet: 'Parquet',
  json_lines: 'JSON Lines',
};

/** How a tabular dataset's file format reads. */
export function formatLabel(format: string | null | undefined): string {
  if (!format) return '—';
  return FORMATS[format] ?? format;
}

/** The transforms a dataset definition may hold, as the API describes them. */
export type Transform =
  | { op: 'take'; count: number }
  | { op: 'skip'; count: number }
  | { op: 'keep_columns'; columns: string[] }
  | { op: 'drop_columns'; columns: string[] }
  | { op: 'filter'; expression: string }
  | { op: 'random_split'; fraction: number; seed: number; side: 'left' | 'right' }
  | { op: 'take_sample'; probability: number; seed: number };

function percent(fraction: number): string {
  return `${formatNumber(fraction * 100)}%`;
}

/** One transform of a definition, in words (`take 100 rows`, `filter: x > 1`). */
export function describeTransform(transform: Transform): string {
  switch (transform.op) {
    case 'take':
      return `take the first ${transform.count.toLocaleString()} rows`;
    case 'skip':
      return `skip the first ${transform.count.toLocaleString()} rows`;
    case 'keep_columns':
      return `keep columns ${transform.columns.join(', ')}`;
    case 'drop_columns':
      return `drop columns ${transform.columns.join(', ')}`;
    case 'filter':
      return `filter: ${transform.expression}`;
    case 'random_split':
      return transform.side === 'left'
        ? `random split: the ${percent(transform.fraction)} side (seed ${transform.seed})`
        : `random split: the other ${percent(1 - transform.fraction)} (seed ${transform.seed})`;
    case 'take_sample':
      return `sample ${percent(transform.probability)} of the rows (seed ${transform.seed})`;
    default: {
      const unknown: { op?: unknown } = transform;
      return String(unknown.op ?? 'unknown transform');
    }
  }
}

/** The parse options the API sends for a tabular dataset (every field defaulted). */
export interface ParseOptions {
  encoding?: string;
  header?: boolean;
  include_path?: boolean;
  null_values?: string[] | null;
  quote_char?: string | null;
  separator?: string;
  set_column_types?: Record<string, string>;
  skip_rows?: number;
}

const CHARACTERS: Record<string, string> = {
  ',': 'comma',
  ';': 'semicolon',
  '|': 'pipe',
  '"': 'double quote',
  "'": 'single quote',
  ':': 'colon',
};

/** A separator or quote character by name, the character itself beside it (`comma  ,`). */
export function characterName(char: string): string {
  if (char === '\t') return 'tab (\\t)';
  if (char === ' ') return 'space';
  const name = CHARACTERS[char];
  return name ? `${name} ( ${char} )` : char;
}

/**
 * The parse options worth reading, as label/value pairs; delimited-only options are left out for
 * other formats, and column types only when some are set.
 */
export function describeParse(parse: ParseOptions | undefined, format: string | null | undefined): [string, string][] {
  const options = parse ?? {};
  const rows: [string, string][] = [];
  if (format === 'delimited') {
    rows.push(['Separator', characterName(options.separator ?? ',')]);
    rows.push(['Header row', options.header === false ? 'no' : 'yes']);
    rows.push(['Encoding', options.encoding ?? 'utf-8']);
    rows.push(['Quote character', options.quote_char ? characterName(options.quote_char) : 'none']);
    if (options.skip_rows) rows.push(['Skip rows', options.skip_rows.toLocaleString()]);
    if (options.null_values && options.null_values.length > 0) {
      rows.push(['Null values', options.null_values.map((value) => JSON.stringify(value)).join(', ')]);
    }
  }
  const types = Object.entries(options.set_column_types ?? {});
  if (types.length > 0) rows.push(['Column types', types.map(([column, type]) => `${column}: ${type}`).join(', ')]);
  if (options.include_path) rows.push(['Path column', 'yes (each row says the file it came from)']);
  return rows;
}

// -- values ----------------------------------------------------------------------------------

/**
 * A value of a profile (min, max, mean, a top value) or of a preview cell, as text: numbers the
 * studio's way, strings as they are, other JSON compactly; missing values are `—`.
 */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return JSON.stringify(value);
}

/** A preview cell: like `formatValue`, except numbers are shown in full (it is the data itself). */
export function formatCell(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') return String(value);
  return formatValue(value);
}

/** `part` of `whole` as a percentage with up to one decimal (`3 of 8` → `37.5%`); `—` without a whole. */
export function formatShare(part: number, whole: number): string {
  if (!Number.isFinite(part) || !Number.isFinite(whole) || whole <= 0) return '—';
  const value = (part / whole) * 100;
  if (value > 0 && value < 0.1) return '<0.1%';
  return `${Number(value.toFixed(1)).toString()}%`;
}

/** Quantiles (`{"0.25": 5.1, "0.5": 5.8}`) sorted by level, labelled as percentiles (`25%`). */
export function quantileRows(quantiles: Record<string, number> | null | undefined): [string, number][] {
  return Object.entries(quantiles ?? {})
    .map(([level, value]) => [Number(level), value] as const)
    .filter(([level]) => Number.isFinite(level))
    .sort(([a], [b]) => a - b)
    .map(([level, value]) => [`${Number((level * 100).toFixed(2)).toString()}%`, value]);
}

// -- histograms ------------------------------------------------------------------------------

export interface Bar {
  x: number;
  y: number;
  width: number;
  height: number;
  low: number;
  high: number;
  count: number;
}

/**
 * The bars of a histogram (`[low, high, count]` bins, arrays as the API client types them) in a `width` × `height` box: equal widths with
 * `gap` between them, heights relative to the fullest bin; a non-empty bin is at least `minHeight`
 * tall so that a single row still shows.
 */
export function histogramBars(
  bins: readonly (readonly number[])[],
  options: { width: number; height: number; gap?: number; minHeight?: number },
): Bar[] {
  const { width, height } = options;
  const gap = options.gap ?? 1;
  const minHeight = options.minHeight ?? 1;
  if (bins.length === 0 || width <= 0 || height <= 0) return [];
  const most = Math.max(...bins.map(([, , count = 0]) => count));
  const step = width / bins.length;
  const barWidth = Math.max(step - gap, step > 2 ? 1 : step);
  return bins.map(([low = Number.NaN, high = Number.NaN, count = 0], index) => {
    const tall = most > 0 && count > 0 ? Math.max(minHeight, (count / most) * height) : 0;
    return { x: index * step, y: height - tall, width: barWidth, height: tall, low, high, count };
  });
}

/** The bars of top values (`[value, count]`), each `count / most` of the full width. */
export function topValueShares(values: readonly (readonly unknown[])[]): { label: string; count: number; share: number }[] {
  const counted = values.map(([value, count]) => ({ value, count: typeof count === 'number' ? count : 0 }));
  const most = Math.max(0, ...counted.map(({ count }) => count));
  return counted.map(({ value, count }) => ({ label: formatValue(value), count, share: most > 0 ? count / most : 0 }));
}

/** A Python string literal for a snippet (`iris` → `"iris"`, quotes and backslashes escaped). */
export function pythonString(value: string): string {
  return JSON.stringify(value);
}
