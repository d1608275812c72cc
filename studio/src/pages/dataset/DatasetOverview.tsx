/**
 * A dataset version's overview: what it is (version, kind, fingerprint, files, the run that produced
 * it) and its definition (sources, format, parse options, transforms, timestamp column), with how
 * to use it from Python.
 */
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router-dom';

import { ApiError } from '../../api/client';
import { runQueryOptions } from '../../api/queries';
import type { DatasetVersionInfo } from '../../api/types';
import { RelativeTime } from '../../components/RelativeTime';
import { StatusBadge } from '../../components/StatusBadge';
import {
  datasetUrl,
  datastoreFolderUrl,
  describeParse,
  describeTransform,
  formatLabel,
  globRoot,
  pythonString,
  type ParseOptions,
  type Transform,
} from '../../lib/data';
import { formatBytes } from '../run/RunFiles';
import { DataCard, DatasetKindBadge, Snippet, TagList } from './DataParts';

/** The run that registered this version, by name when it can be loaded (it may have been deleted). */
function ProducedBy({ runId }: { runId: string }) {
  const run = useQuery({ ...runQueryOptions(runId), retry: false });
  const gone = run.error instanceof ApiError && run.error.status === 404;
  return (
    <span className="data-run" data-testid="dataset-source-run">
      <Link to={`/runs/${encodeURIComponent(runId)}`} className={run.data?.info.display_name ? undefined : 'mono'}>
        {run.data?.info.display_name || runId}
      </Link>
      {run.data && <StatusBadge status={run.data.info.status} />}
      {gone && <span className="muted">(run deleted)</span>}
    </span>
  );
}

function usageSnippet(dataset: DatasetVersionInfo): string {
  const lines = [
    'import ember',
    '',
    'ws = ember.Workspace.from_config()',
    `ds = ember.Dataset.get_by_name(ws, ${pythonString(dataset.name)}, version=${dataset.version})`,
  ];
  if (dataset.kind === 'tabular') {
    lines.push('df = ds.to_pandas_dataframe()');
  } else {
    lines.push(`paths = ds.download(${pythonString(`./${dataset.name}`)})`);
  }
  lines.push(
    '',
    '# the input of a submitted run:',
    `config = ember.ScriptRunConfig("src", "train.py", arguments=["--data", ds.as_named_input(${pythonString(dataset.name)})])`,
  );
  return lines.join('\n');
}

export function DatasetOverview({ dataset, latest }: { dataset: DatasetVersionInfo; latest: DatasetVersionInfo }) {
  const { definition } = dataset;
  const transforms = (definition.transforms ?? []) as Transform[];
  const parse = describeParse(definition.parse as ParseOptions | undefined, definition.format);
  const snippet = usageSnippet(dataset);

  return (
    <div className="data-overview">
      <div className="data-columns">
        <DataCard title="Details" testId="dataset-details">
          <dl className="facts data-facts">
            <dt>Version</dt>
            <dd>
              v{dataset.version}{' '}
              {dataset.id === latest.id ? (
                <span className="badge tone-ok">latest</span>
              ) : (
                <Link to={datasetUrl(dataset.name)} className="data-newer">
                  newer: v{latest.version}
                </Link>
              )}
            </dd>
            <dt>Kind</dt>
            <dd>
              <DatasetKindBadge kind={dataset.kind} />
            </dd>
            <dt>Registered</dt>
            <dd>
              <RelativeTime value={dataset.created_time} />
            </dd>
            <dt>Files</dt>
            <dd data-testid="dataset-file-count">
              <Link to={datasetUrl(dataset.name, { version: dataset.version, tab: 'files' })}>
                {dataset.file_count.toLocaleString()} {dataset.file_count === 1 ? 'file' : 'files'}
              </Link>
              , {formatBytes(dataset.total_size)}
            </dd>
            <dt>Fingerprint</dt>
            <dd className="mono data-hash" title={`${dataset.fingerprint}\nA digest of the files' paths, sizes and versions at registration`}>
              {dataset.fingerprint.slice(0, 16)}
            </dd>
            <dt>Produced by</dt>
            <dd>{dataset.source_run_id ? <ProducedBy runId={dataset.source_run_id} /> : <span className="muted">registered outside a run</span>}</dd>
            <dt>Id</dt>
            <dd className="mono">{dataset.id}</dd>
            <dt>Tags</dt>
            <dd>
              <TagList tags={dataset.tags} />
            </dd>
          </dl>
        </DataCard>
        <DataCard title="Definition" testId="dataset-definition">
          <dl className="facts data-facts">
            <dt>Sources</dt>
            <dd>
              <ul className="data-sources" data-testid="dataset-sources">
                {definition.sources.map((source, index) => (
                  <li key={`${source.datastore}:${source.path}:${index}`}>
                    <Link to={datastoreFolderUrl(source.datastore, globRoot(source.path))} title="Browse the datastore">
                      {source.datastore}
                    </Link>
                    <span className="muted">:</span> <span className="mono">{source.path || '(the whole datastore)'}</span>
                  </li>
                ))}
              </ul>
            </dd>
            {dataset.kind === 'tabular' && (
              <>
                <dt>Format</dt>
                <dd>{formatLabel(definition.format)}</dd>
              </>
            )}
            {parse.map(([label, value]) => (
              <ParseRow key={label} label={label} value={value} />
            ))}
            {dataset.kind === 'tabular' && (
              <>
                <dt>Transforms</dt>
                <dd>
                  {transforms.length === 0 ? (
                    <span className="muted">none: every row of every file</span>
                  ) : (
                    <ol className="data-transforms" data-testid="dataset-transforms">
                      {transforms.map((transform, index) => (
                        <li key={index}>{describeTransform(transform)}</li>
                      ))}
                    </ol>
                  )}
                </dd>
                <dt>Timestamp column</dt>
                <dd className={definition.timestamp_column ? 'mono' : undefined}>
                  {definition.timestamp_column ?? <span className="muted">none</span>}
                </dd>
              </>
            )}
          </dl>
        </DataCard>
      </div>
      <DataCard title="Use it">
        <Snippet code={snippet} />
      </DataCard>
    </div>
  );
}

function ParseRow({ label, value }: { label: string; value: string }) {
  return (
    <>
      <dt>{label}</dt>
      <dd className="mono">{value}</dd>
    </>
  );
}
