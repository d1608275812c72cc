/**
 * The run's stored files (`outputs/`, `logs/`, `user_logs/`, anything uploaded): a tree, a preview
 * of the selected file (text, pretty JSON, CSV as a table, images) and a download link for each.
 * HTML and SVG are never shown inline: the server sends them as attachments.
 */
import { useQuery } from '@tanstack/react-query';
import { useSearchParams } from 'react-router-dom';

import { api, unwrap } from '../../api/client';
import type { RunDetails } from '../../api/client';
import { EmptyState } from '../../components/EmptyState';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Spinner } from '../../components/Spinner';
import { plural } from '../../lib/format';
import { encodePath, formatBytes, looksLikeText, parseDelimited, previewKind } from './RunFiles';
import { RunFileTree } from './RunFileTree';

/** Files larger than this are not previewed (download them). */
export const PREVIEW_LIMIT_BYTES = 2 * 1024 * 1024;
const CSV_ROWS = 500;

export function artifactUrl(runId: string, path: string): string {
  return `/api/v1/runs/${encodeURIComponent(runId)}/artifacts/${encodePath(path)}`;
}

type Preview =
  | { kind: 'text'; text: string }
  | { kind: 'json'; text: string }
  | { kind: 'csv'; rows: string[][]; truncated: boolean }
  | { kind: 'binary' };

async function fetchPreview(url: string, path: string, signal: AbortSignal): Promise<Preview> {
  const response = await fetch(url, { signal });
  if (!response.ok) throw new Error(`the server answered HTTP ${response.status} for ${path}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const kind = previewKind(path);
  if (kind === 'unknown' && !looksLikeText(bytes)) return { kind: 'binary' };
  const text = new TextDecoder().decode(bytes);
  if (kind === 'json') {
    try {
      return { kind: 'json', text: JSON.stringify(JSON.parse(text), null, 2) };
    } catch {
      return { kind: 'text', text };
    }
  }
  if (kind === 'csv') {
    const rows = parseDelimited(text, { separator: path.toLowerCase().endsWith('.tsv') ? '\t' : ',', maxRows: CSV_ROWS + 1 });
    return { kind: 'csv', rows: rows.slice(0, CSV_ROWS + 1), truncated: rows.length > CSV_ROWS };
  }
  return { kind: 'text', text };
}

function FilePreview({ runId, path, size }: { runId: string; path: string; size: number }) {
  const url = artifactUrl(runId, path);
  const kind = previewKind(path);
  const fetchable = kind !== 'image' && kind !== 'not-inline' && size <= PREVIEW_LIMIT_BYTES;
  const preview = useQuery({
    queryKey: ['runs', runId, 'artifact', path, size],
    queryFn: ({ signal }) => fetchPreview(url, path, signal),
    enabled: fetchable,
    staleTime: Infinity,
  });

  let body;
  if (kind === 'image') {
    body = (
      <div className="run-image">
        <img src={url} alt={path} data-testid="artifact-image" />
      </div>
    );
  } else if (kind === 'not-inline') {
    body = <p className="muted run-none">HTML and SVG files are not shown here (they could run code in the page); download it to open it.</p>;
  } else if (size > PREVIEW_LIMIT_BYTES) {
    body = <p className="muted run-none">This file is {formatBytes(size)}, too large to preview; download it.</p>;
  } else if (preview.isPending) {
    body = <Spinner label="Loading the file…" />;
  } else if (preview.isError) {
    body = <ErrorBanner error={preview.error} title="Could not load the file" />;
  } else if (preview.data.kind === 'binary') {
    body = <p className="muted run-none">A binary file; download it to open it.</p>;
  } else if (preview.data.kind === 'csv') {
    const [header = [], ...rows] = preview.data.rows;
    body = (
      <div className="table-wrap run-table-scroll" data-testid="artifact-csv">
        <table className="data">
          <thead>
            <tr>
              {header.map((name, i) => (
                <th key={i} scope="col">
                  {name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row, r) => (
              <tr key={r}>
                {row.map((value, c) => (
                  <td key={c}>{value}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        {preview.data.truncated && <p className="muted run-none">First {CSV_ROWS} rows shown; download the file for the rest.</p>}
      </div>
    );
  } else {
    body = (
      <pre className="run-pre run-file-text" data-testid="artifact-text">
        {preview.data.text}
      </pre>
    );
  }

  return (
    <section className="card run-preview" aria-label={`Preview of ${path}`}>
      <header>
        <h2 className="mono truncate" title={path}>
          {path}
        </h2>
        <span className="toolbar">
          <span className="muted">{formatBytes(size)}</span>
          <a className="button small" href={url} download={path.split('/').pop()} data-testid="download-file">
            Download
          </a>
        </span>
      </header>
      <div className="card-body">{body}</div>
    </section>
  );
}

export function RunOutputs({ run, active }: { run: RunDetails; active: boolean }) {
  const runId = run.info.id;
  const [params] = useSearchParams();
  const files = useQuery({
    queryKey: ['runs', runId, 'artifacts'],
    queryFn: ({ signal }) => unwrap(api.GET('/api/v1/runs/{run_id}/artifacts', { params: { path: { run_id: runId } }, signal })),
    refetchInterval: active ? 5000 : false,
  });
  if (files.isPending) return <Spinner label="Loading the run's files…" />;
  if (files.isError) return <ErrorBanner error={files.error} title="Could not list the run's files" onRetry={() => void files.refetch()} />;
  if (files.data.length === 0) {
    return (
      <section className="card">
        <EmptyState title="No outputs">
          {active
            ? 'Files the script writes to outputs/ are stored when the run ends; files uploaded with run.upload_file() appear at once.'
            : 'This run stored no files.'}
        </EmptyState>
      </section>
    );
  }
  const selectedPath = params.get('path');
  const selected = files.data.find((file) => file.path === selectedPath) ?? null;
  const total = files.data.reduce((sum, file) => sum + file.size, 0);
  return (
    <div className="run-files">
      <section className="card run-files-tree" aria-label="Files">
        <header>
          <h2>Files</h2>
          <span className="muted">
            {plural(files.data.length, 'file')}, {formatBytes(total)}
          </span>
        </header>
        <RunFileTree files={files.data} selected={selected?.path ?? null} label="Run files" />
      </section>
      {selected ? (
        <FilePreview key={selected.path} runId={runId} path={selected.path} size={selected.size} />
      ) : (
        <section className="card run-preview">
          <EmptyState title={selectedPath ? 'No such file' : 'Pick a file'}>
            {selectedPath ? `This run has no file ${selectedPath}.` : 'Select a file to preview it here.'}
          </EmptyState>
        </section>
      )}
    </div>
  );
}
