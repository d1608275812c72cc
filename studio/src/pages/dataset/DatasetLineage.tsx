/**
 * A dataset version's lineage: the runs that produced it (outputs) and the runs that consumed it
 * (inputs), each with its name and status (loaded per run) and a link to the run page.
 */
import { useQueries } from '@tanstack/react-query';
import { Link } from 'react-router-dom';

import { ApiError, type RunInfo } from '../../api/client';
import { runQueryOptions, useDatasetRuns } from '../../api/queries';
import type { DatasetLink, DatasetVersionInfo } from '../../api/types';
import { EmptyState } from '../../components/EmptyState';
import { ErrorBanner } from '../../components/ErrorBanner';
import { RelativeTime } from '../../components/RelativeTime';
import { Spinner } from '../../components/Spinner';
import { StatusBadge } from '../../components/StatusBadge';
import { pythonString } from '../../lib/data';
import { DataCard, Snippet } from './DataParts';

/** Runs looked up by id for their names; past this many the table shows ids. */
const RUNS_LOOKED_UP = 100;

const MODES: Record<string, string> = {
  download: 'downloaded',
  direct: 'read in place',
  output: 'written',
};

function LinksTable({ links, testId, runs }: { links: DatasetLink[]; testId: string; runs: Map<string, RunLookup> }) {
  return (
    <div className="table-wrap">
      <table className="data" data-testid={testId}>
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Experiment</th>
            <th scope="col">Status</th>
            <th scope="col">As</th>
            <th scope="col">Mode</th>
            <th scope="col">Linked</th>
          </tr>
        </thead>
        <tbody>
          {links.map((link) => {
            const run = runs.get(link.run_id);
            const info = run?.info;
            return (
              <tr key={`${link.run_id}:${link.direction}:${link.name}`} data-testid="lineage-row" data-run-id={link.run_id}>
                <td className="truncate">
                  <Link to={`/runs/${encodeURIComponent(link.run_id)}`} className={info?.display_name ? undefined : 'mono'}>
                    {info?.display_name || link.run_id}
                  </Link>
                  {run?.gone && <span className="muted"> (deleted)</span>}
                </td>
                <td className="truncate">
                  {info ? (
                    <Link to={`/experiments/${encodeURIComponent(info.experiment_id)}`}>{info.experiment_name ?? info.experiment_id}</Link>
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
                <td>{info ? <StatusBadge status={info.status} /> : <span className="muted">—</span>}</td>
                <td className="mono">{link.name}</td>
                <td>{MODES[link.mode] ?? link.mode}</td>
                <td>
                  <RelativeTime value={link.created_time} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

interface RunLookup {
  info?: RunInfo;
  gone: boolean;
}

export function DatasetLineage({ dataset }: { dataset: DatasetVersionInfo }) {
  const links = useDatasetRuns(dataset.id);
  const ids = [...new Set((links.data ?? []).map((link) => link.run_id))].slice(0, RUNS_LOOKED_UP);
  const results = useQueries({ queries: ids.map((id) => ({ ...runQueryOptions(id), retry: false })) });
  const runs = new Map<string, RunLookup>();
  ids.forEach((id, index) => {
    const result = results[index];
    runs.set(id, {
      info: result?.data?.info,
      gone: result?.error instanceof ApiError && result.error.status === 404,
    });
  });

  if (links.isPending) return <Spinner label="Loading the lineage…" />;
  if (links.isError) {
    return <ErrorBanner error={links.error} title="Could not load the lineage" onRetry={() => void links.refetch()} />;
  }
  const outputs = links.data.filter((link) => link.direction === 'output');
  const inputs = links.data.filter((link) => link.direction === 'input');
  return (
    <div className="stack">
      <DataCard title={`Produced by (${outputs.length})`} testId="lineage-produced" flush>
        {outputs.length > 0 ? (
          <LinksTable links={outputs} runs={runs} testId="lineage-outputs" />
        ) : (
          <p className="placeholder-note">
            Registered outside a run. A run that registers a version (or writes an <code>OutputDatasetConfig</code>) is
            recorded here.
          </p>
        )}
      </DataCard>
      <DataCard title={`Consumed by (${inputs.length})`} testId="lineage-consumed" flush>
        {inputs.length > 0 ? (
          <LinksTable links={inputs} runs={runs} testId="lineage-inputs" />
        ) : (
          <EmptyState
            title="No run has used this version yet"
            actions={
              <Snippet
                label="Give it to a submitted run as a named input"
                code={`ds = ember.Dataset.get_by_name(ws, ${pythonString(dataset.name)}, version=${dataset.version})\nconfig = ember.ScriptRunConfig("src", "train.py", arguments=["--data", ds.as_named_input(${pythonString(dataset.name)})])`}
              />
            }
          />
        )}
      </DataCard>
    </div>
  );
}
