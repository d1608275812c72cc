/**
 * The source files a submitted run started from (its snapshot): a tree, the selected file with
 * syntax highlighting (`?path=`), and a download link per file. Interactive runs have none.
 */
import './RunSnapshot.css';

import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { useSearchParams } from 'react-router-dom';

import { ApiError, api, unwrap } from '../../api/client';
import type { RunDetails } from '../../api/client';
import { useRunConfiguration } from '../../api/queries';
import { EmptyState } from '../../components/EmptyState';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Spinner } from '../../components/Spinner';
import { plural } from '../../lib/format';
import { encodePath, formatBytes, highlightLanguage, looksLikeText } from './RunFiles';
import { RunFileTree } from './RunFileTree';
import { highlightCode } from './RunHighlight';

const PREVIEW_LIMIT_BYTES = 1024 * 1024;

function snapshotFileUrl(runId: string, path: string): string {
  return `/api/v1/runs/${encodeURIComponent(runId)}/snapshot/${encodePath(path)}`;
}

function SourceFile({ runId, path, size }: { runId: string; path: string; size: number }) {
  const url = snapshotFileUrl(runId, path);
  const content = useQuery({
    queryKey: ['runs', runId, 'snapshot', 'file', path],
    queryFn: async ({ signal }) => {
      const response = await fetch(url, { signal });
      if (!response.ok) throw new Error(`the server answered HTTP ${response.status} for ${path}`);
      const bytes = new Uint8Array(await response.arrayBuffer());
      return looksLikeText(bytes) ? new TextDecoder().decode(bytes) : null;
    },
    enabled: size <= PREVIEW_LIMIT_BYTES,
    staleTime: Infinity,
  });
  const language = highlightLanguage(path);
  const html = useMemo(
    () => (typeof content.data === 'string' ? highlightCode(content.data, language) : null),
    [content.data, language],
  );
  const lines = typeof content.data === 'string' ? content.data.split('\n').length : 0;

  let body;
  if (size > PREVIEW_LIMIT_BYTES) body = <p className="muted run-none">This file is {formatBytes(size)}, too large to show; download it.</p>;
  else if (content.isPending) body = <Spinner label="Loading the file…" />;
  else if (content.isError) body = <ErrorBanner error={content.error} title="Could not load the file" />;
  else if (content.data === null) body = <p className="muted run-none">A binary file; download it to open it.</p>;
  else
    body = (
      <pre className="run-code" data-testid="snapshot-code" data-language={language}>
        {html === null ? (
          <code className="hljs">{content.data}</code>
        ) : (
          // highlight.js escapes the source; its output is only spans with classes.
          <code className={`hljs language-${language}`} dangerouslySetInnerHTML={{ __html: html }} />
        )}
      </pre>
    );

  return (
    <section className="card run-preview" aria-label={`Source of ${path}`}>
      <header>
        <h2 className="mono truncate" title={path}>
          {path}
        </h2>
        <span className="toolbar">
          <span className="muted">
            {lines > 0 && `${plural(lines, 'line')} · `}
            {formatBytes(size)} · {language}
          </span>
          <a className="button small" href={url} download={path.split('/').pop()} data-testid="download-file">
            Download
          </a>
        </span>
      </header>
      <div className="card-body">{body}</div>
    </section>
  );
}

/** The file shown when none is picked: the run's script if the snapshot has it, else the first file. */
function defaultFile(paths: string[], script: string | undefined): string | null {
  if (script && paths.includes(script)) return script;
  return paths.find((path) => path.endsWith('.py')) ?? paths[0] ?? null;
}

export function RunSnapshot({ run }: { run: RunDetails }) {
  const runId = run.info.id;
  const [params] = useSearchParams();
  const snapshot = useQuery({
    queryKey: ['runs', runId, 'snapshot'],
    queryFn: async ({ signal }) => {
      try {
        return await unwrap(api.GET('/api/v1/runs/{run_id}/snapshot', { params: { path: { run_id: runId } }, signal }));
      } catch (exc) {
        if (exc instanceof ApiError && exc.status === 404) return null;
        throw exc;
      }
    },
    staleTime: Infinity,
  });
  const configuration = useRunConfiguration(runId);

  if (snapshot.isPending) return <Spinner label="Loading the snapshot…" />;
  if (snapshot.isError) return <ErrorBanner error={snapshot.error} title="Could not load the snapshot" onRetry={() => void snapshot.refetch()} />;
  if (snapshot.data === null || snapshot.data.files.length === 0) {
    return (
      <section className="card">
        <EmptyState title="No snapshot">
          {snapshot.data === null
            ? 'This run was not submitted from a source folder (it was logged interactively), so it has no snapshot.'
            : 'The snapshot of this run holds no files.'}
        </EmptyState>
      </section>
    );
  }
  const files = snapshot.data.files;
  const wanted = params.get('path');
  const selectedPath = wanted ?? defaultFile(files.map((file) => file.path), configuration.data?.config.script);
  const selected = files.find((file) => file.path === selectedPath) ?? null;
  return (
    <div className="run-files">
      <section className="card run-files-tree" aria-label="Snapshot files">
        <header>
          <h2>Source files</h2>
          <span className="muted" title={`snapshot ${snapshot.data.snapshot_digest}`}>
            {plural(snapshot.data.file_count, 'file')}, {formatBytes(snapshot.data.total_size)}
          </span>
        </header>
        <RunFileTree files={files} selected={selected?.path ?? null} label="Snapshot files" />
      </section>
      {selected ? (
        <SourceFile key={selected.path} runId={runId} path={selected.path} size={selected.size} />
      ) : (
        <section className="card run-preview">
          <EmptyState title="No such file">The snapshot has no file {wanted}.</EmptyState>
        </section>
      )}
    </div>
  );
}
