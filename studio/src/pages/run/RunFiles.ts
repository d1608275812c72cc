/**
 * Pure helpers of the run page's file views (outputs and snapshot): the folder tree of a flat
 * list of paths, what kind of preview a file gets, its highlight.js language and its URL.
 */

export interface FileEntry {
  path: string;
  size: number;
}

export interface TreeNode {
  name: string;
  /** Full path; for a folder, without a trailing slash. */
  path: string;
  size: number;
  /** Present for folders only (folders first, then files, each by name). */
  children?: TreeNode[];
}

/** The folder tree of `files` (paths separated by `/`); folder sizes are the sum of their files. */
export function buildTree(files: readonly FileEntry[]): TreeNode[] {
  const root: TreeNode = { name: '', path: '', size: 0, children: [] };
  for (const file of files) {
    const parts = file.path.split('/').filter((part) => part !== '');
    let node = root;
    node.size += file.size;
    parts.forEach((part, index) => {
      const children = node.children ?? (node.children = []);
      const isFile = index === parts.length - 1;
      const path = parts.slice(0, index + 1).join('/');
      let next = children.find((child) => child.name === part && (child.children === undefined) === isFile);
      if (!next) {
        next = isFile ? { name: part, path, size: 0 } : { name: part, path, size: 0, children: [] };
        children.push(next);
      }
      next.size += file.size;
      node = next;
    });
  }
  const sort = (nodes: TreeNode[]) => {
    nodes.sort((a, b) => {
      const folderFirst = Number(b.children !== undefined) - Number(a.children !== undefined);
      return folderFirst || a.name.localeCompare(b.name, undefined, { numeric: true });
    });
    for (const node of nodes) if (node.children) sort(node.children);
  };
  sort(root.children ?? []);
  return root.children ?? [];
}

/** The folders above `path` (`a/b/c.txt` → `a`, `a/b`), to open them when a file is selected. */
export function ancestors(path: string): string[] {
  const parts = path.split('/');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

export type PreviewKind = 'image' | 'json' | 'csv' | 'text' | 'not-inline' | 'unknown';

const IMAGE = new Set(['png', 'jpg', 'jpeg', 'gif', 'webp']);
// The server sends these as attachments (they could run script in the page's origin): never inline.
const NOT_INLINE = new Set(['html', 'htm', 'svg', 'xhtml', 'xml']);
const TEXT = new Set([
  'txt', 'log', 'md', 'markdown', 'rst', 'py', 'pyi', 'yaml', 'yml', 'toml', 'ini', 'cfg', 'conf', 'sh', 'bash',
  'out', 'err', 'ipynb', 'js', 'ts', 'tsx', 'jsx', 'css', 'r', 'sql', 'env', 'gitignore', 'amlignore', 'emberignore',
  'dockerfile', 'requirements', 'in', 'lock',
]);

function extension(path: string): string {
  const name = path.split('/').pop() ?? '';
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot + 1).toLowerCase();
}

/** How a run file is previewed, from its name (`unknown`: look at the bytes). */
export function previewKind(path: string): PreviewKind {
  const ext = extension(path);
  if (IMAGE.has(ext)) return 'image';
  if (NOT_INLINE.has(ext)) return 'not-inline';
  if (ext === 'json') return 'json';
  if (ext === 'csv' || ext === 'tsv') return 'csv';
  if (TEXT.has(ext)) return 'text';
  return 'unknown';
}

/** True when bytes look like text (no NUL in the first 8 KB): the test `git diff` uses. */
export function looksLikeText(bytes: Uint8Array): boolean {
  const end = Math.min(bytes.length, 8192);
  for (let i = 0; i < end; i++) if (bytes[i] === 0) return false;
  return true;
}

/** The highlight.js language of a source file (only those the studio registers). */
export function highlightLanguage(path: string): 'python' | 'yaml' | 'json' | 'bash' | 'markdown' | 'plaintext' {
  const name = (path.split('/').pop() ?? '').toLowerCase();
  const ext = extension(path);
  if (ext === 'py' || ext === 'pyi') return 'python';
  if (ext === 'yaml' || ext === 'yml') return 'yaml';
  if (ext === 'json' || ext === 'ipynb') return 'json';
  if (ext === 'sh' || ext === 'bash' || name === '.bashrc') return 'bash';
  if (ext === 'md' || ext === 'markdown') return 'markdown';
  return 'plaintext';
}

/** A path's segments percent-encoded, its slashes kept (for `/artifacts/{path}` style URLs). */
export function encodePath(path: string): string {
  return path
    .split('/')
    .map((part) => encodeURIComponent(part))
    .join('/');
}

/** `512 B`, `1.5 KB`, `12 MB` (powers of 1024, like `ls -h`). */
export function formatBytes(size: number): string {
  if (!Number.isFinite(size) || size < 0) return '—';
  if (size < 1024) return `${size} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = size / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value).toString()} ${units[unit] as string}`;
}

/**
 * Rows of a CSV (or TSV) text: quoted fields with doubled quotes and embedded separators or
 * newlines, CRLF or LF line ends; stops after `maxRows` rows.
 */
export function parseDelimited(text: string, options: { separator?: string; maxRows?: number } = {}): string[][] {
  const separator = options.separator ?? ',';
  const maxRows = options.maxRows ?? Infinity;
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const endRow = () => {
    row.push(field);
    rows.push(row);
    row = [];
    field = '';
  };
  while (i < text.length && rows.length < maxRows) {
    const char = text[i] as string;
    if (quoted) {
      if (char === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 1;
        } else quoted = false;
      } else field += char;
    } else if (char === '"' && field === '') quoted = true;
    else if (char === separator) {
      row.push(field);
      field = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i += 1;
      endRow();
    } else field += char;
    i += 1;
  }
  if (rows.length < maxRows && (field !== '' || row.length > 0)) endRow();
  return rows;
}
