/**
 * The runs table's pure logic: column ids, sort orders, the view kept in the URL, filter-key completion.
 *
 * A column id is the search grammar's `<entity>.<key>` with the key unquoted (`metrics.loss`,
 * `params.learning rate`, `attributes.created_time`), so a column is also its own sort key; see the
 * grammar at the top of `src/ember/store/search.py`.
 */

export type ColumnKind = 'attributes' | 'metrics' | 'params' | 'tags';

export interface ColumnRef {
  kind: ColumnKind;
  key: string;
}

export type Direction = 'ASC' | 'DESC';

export interface Order {
  column: string;
  direction: Direction;
}

/** What the URL holds: the applied filter, the order (null: the server's default), the columns (null: default). */
export interface ViewState {
  filter: string;
  order: Order | null;
  columns: string[] | null;
}

/** The run column: always shown, sorted by display name. */
export const RUN_COLUMN = 'attributes.display_name';

/** Attribute columns a user can show or hide, in table order. */
export const ATTRIBUTE_COLUMNS: { id: string; label: string }[] = [
  { id: 'attributes.status', label: 'Status' },
  { id: 'attributes.created_time', label: 'Created' },
  { id: 'attributes.duration', label: 'Duration' },
  { id: 'attributes.user', label: 'User' },
];

/** The server's order when the request names none. */
export const DEFAULT_ORDER: Order = { column: 'attributes.created_time', direction: 'DESC' };

/** How many metric columns the default view shows. */
export const DEFAULT_METRIC_COLUMNS = 3;

const ENTITY_ALIASES: Record<string, ColumnKind> = {
  metrics: 'metrics',
  metric: 'metrics',
  params: 'params',
  param: 'params',
  tags: 'tags',
  tag: 'tags',
  attributes: 'attributes',
  attribute: 'attributes',
  attr: 'attributes',
  run: 'attributes',
};

const BARE_KEY = /^[A-Za-z0-9_\-.:/]+$/;

/** `metrics.loss` → {kind: 'metrics', key: 'loss'}; the key may hold dots (`metrics.val.loss`). Null when malformed. */
export function parseColumnId(id: string): ColumnRef | null {
  const dot = id.indexOf('.');
  if (dot <= 0 || dot === id.length - 1) return null;
  const kind = ENTITY_ALIASES[id.slice(0, dot).toLowerCase()];
  if (!kind) return null;
  return { kind, key: id.slice(dot + 1) };
}

export function columnId(kind: ColumnKind, key: string): string {
  return `${kind}.${key}`;
}

/** A key as the grammar reads it: bare when it can be, else in backticks (a backtick doubled). */
export function quoteKey(key: string): string {
  return BARE_KEY.test(key) ? key : `\`${key.replace(/`/g, '``')}\``;
}

/** A string literal of the grammar: single quotes, with `\` and `'` escaped. */
export function quoteString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The grammar's `<entity>.<key>` for a column id (null when the id is malformed). */
export function searchKey(id: string): string | null {
  const ref = parseColumnId(id);
  return ref ? `${ref.kind}.${quoteKey(ref.key)}` : null;
}

/** `metrics.loss ASC` for {column: 'metrics.loss', direction: 'ASC'}. */
export function formatOrder(order: Order): string {
  return `${searchKey(order.column) ?? order.column} ${order.direction}`;
}

/** Read an order such as `metrics.loss DESC` or ``params.`learning rate` `` (ASC when no direction); null when malformed. */
export function parseOrder(text: string | null | undefined): Order | null {
  if (!text) return null;
  const match = /^\s*([A-Za-z_]+)\.(`(?:[^`]|``)+`|"(?:[^"\\]|\\.)+"|[A-Za-z0-9_\-.:/]+)\s*(ASC|DESC)?\s*$/i.exec(text);
  if (!match) return null;
  const kind = ENTITY_ALIASES[(match[1] ?? '').toLowerCase()];
  let key = match[2] ?? '';
  if (!kind || !key) return null;
  if (key.startsWith('`')) key = key.slice(1, -1).replace(/``/g, '`');
  else if (key.startsWith('"')) key = key.slice(1, -1).replace(/\\(.)/g, '$1');
  const direction = (match[3] ?? 'ASC').toUpperCase() as Direction;
  return { column: columnId(kind, key), direction };
}

/** The search body's `order_by` for an order (empty: the server's default). */
export function orderByFor(order: Order | null): string[] {
  return order ? [formatOrder(order)] : [];
}

/** How a column is sorted now, counting the server's default order. */
export function sortDirection(order: Order | null, column: string): Direction | null {
  const effective = order ?? DEFAULT_ORDER;
  return effective.column === column ? effective.direction : null;
}

/**
 * The order after clicking a column's header: unsorted → ascending → descending → the default order.
 * The default itself is written as null, so the URL stays clean.
 */
export function nextOrder(order: Order | null, column: string): Order | null {
  const current = sortDirection(order, column);
  let next: Order | null;
  if (current === null) next = { column, direction: 'ASC' };
  else if (current === 'ASC') next = { column, direction: 'DESC' };
  else next = null;
  if (next && next.column === DEFAULT_ORDER.column && next.direction === DEFAULT_ORDER.direction) return null;
  if (next === null && column === DEFAULT_ORDER.column) return { column, direction: 'ASC' };
  return next;
}

/** The view a URL's query string describes; unknown or malformed parts fall back to defaults. */
export function decodeView(params: URLSearchParams): ViewState {
  const cols = params.get('cols');
  return {
    filter: params.get('filter') ?? '',
    order: parseOrder(params.get('order')),
    columns:
      cols === null
        ? null
        : cols
            .split(',')
            .map((c) => c.trim())
            .filter((c) => c !== '' && parseColumnId(c) !== null),
  };
}

/** The query string for a view, keeping other parameters of `base`; defaults are left out. */
export function encodeView(view: ViewState, base: URLSearchParams = new URLSearchParams()): URLSearchParams {
  const params = new URLSearchParams(base);
  const filter = view.filter.trim();
  if (filter) params.set('filter', filter);
  else params.delete('filter');
  if (view.order) params.set('order', formatOrder(view.order));
  else params.delete('order');
  if (view.columns) params.set('cols', view.columns.join(','));
  else params.delete('cols');
  return params;
}

export interface ExperimentKeyLists {
  params?: string[];
  metrics?: string[];
  tags?: string[];
}

/** The default columns: every attribute column and the first few metrics. */
export function defaultColumns(keys: ExperimentKeyLists | undefined): string[] {
  return [
    ...ATTRIBUTE_COLUMNS.map((c) => c.id),
    ...(keys?.metrics ?? []).slice(0, DEFAULT_METRIC_COLUMNS).map((k) => columnId('metrics', k)),
  ];
}

/** Every column a user can choose, attributes first, then metrics, params and tags. */
export function availableColumns(keys: ExperimentKeyLists | undefined): string[] {
  return [
    ...ATTRIBUTE_COLUMNS.map((c) => c.id),
    ...(keys?.metrics ?? []).map((k) => columnId('metrics', k)),
    ...(keys?.params ?? []).map((k) => columnId('params', k)),
    ...(keys?.tags ?? []).map((k) => columnId('tags', k)),
  ];
}

/** A column's header text: `Status` for attributes, the key itself for the rest. */
export function columnLabel(id: string): string {
  const attribute = ATTRIBUTE_COLUMNS.find((c) => c.id === id);
  if (attribute) return attribute.label;
  if (id === RUN_COLUMN) return 'Run';
  return parseColumnId(id)?.key ?? id;
}

/** Add or remove a column, keeping the chosen order and adding new ones at the end. */
export function toggleColumn(columns: string[], id: string, shown: boolean): string[] {
  const without = columns.filter((c) => c !== id);
  return shown ? [...without, id] : without;
}

/** The filter that finds these runs by id (for refreshing the live ones). */
export function runIdFilter(ids: string[]): string {
  return `attributes.run_id IN (${ids.map(quoteString).join(', ')})`;
}

/** Attribute names the grammar knows, offered by the filter box's completion. */
export const FILTER_ATTRIBUTES = [
  'status',
  'display_name',
  'user',
  'run_id',
  'run_type',
  'created_time',
  'start_time',
  'end_time',
  'duration',
];

/** The word under the caret: from the last space, bracket or comma before it to the next one after it. */
export function tokenAt(text: string, caret: number): { start: number; end: number; token: string } {
  const separators = /[\s(),]/;
  let start = caret;
  while (start > 0 && !separators.test(text[start - 1] ?? '')) start -= 1;
  let end = caret;
  while (end < text.length && !separators.test(text[end] ?? '')) end += 1;
  return { start, end, token: text.slice(start, caret) };
}

/**
 * Completions for a partly typed `entity.key`: entity names while no dot is typed, else the keys of that
 * entity that start with (then contain) what follows the dot. At most `limit`.
 */
export function completions(token: string, keys: ExperimentKeyLists | undefined, limit = 8): string[] {
  if (token.length === 0) return [];
  const dot = token.indexOf('.');
  if (dot < 0) {
    const lower = token.toLowerCase();
    return ['metrics.', 'params.', 'tags.', 'attributes.'].filter((e) => e.startsWith(lower) && e !== lower);
  }
  const kind = ENTITY_ALIASES[token.slice(0, dot).toLowerCase()];
  if (!kind) return [];
  const typed = token.slice(dot + 1).toLowerCase();
  const pool = kind === 'attributes' ? FILTER_ATTRIBUTES : (keys?.[kind] ?? []);
  const starts = pool.filter((k) => k.toLowerCase().startsWith(typed));
  const contains = pool.filter((k) => !k.toLowerCase().startsWith(typed) && k.toLowerCase().includes(typed));
  const prefix = token.slice(0, dot + 1);
  return [...starts, ...contains]
    .filter((k) => k.toLowerCase() !== typed || quoteKey(k) !== k)
    .slice(0, limit)
    .map((k) => `${prefix}${quoteKey(k)}`);
}

/** Put a completion in place of the token under the caret; returns the new text and caret. */
export function applyCompletion(text: string, caret: number, completion: string): { text: string; caret: number } {
  const { start, end } = tokenAt(text, caret);
  const next = `${text.slice(0, start)}${completion}${text.slice(end)}`;
  return { text: next, caret: start + completion.length };
}
