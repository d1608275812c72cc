/**
 * A model version's lineage: the run that produced it (with its status and experiment) and the dataset
 * versions it was trained or evaluated on, each linked to its page.
 */
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router-dom';

import { ApiError } from '../../api/client';
import { runQueryOptions } from '../../api/queries';
import type { ModelInfo } from '../../api/types';
import { EmptyState } from '../../components/EmptyState';
import { ErrorBanner } from '../../components/ErrorBanner';
import { RelativeTime } from '../../components/RelativeTime';
import { Spinner } from '../../components/Spinner';
import { StatusBadge } from '../../components/StatusBadge';
import { datasetUrl, pythonString } from '../../lib/data';
import { DataCard, Snippet } from '../dataset/DataParts';

/** The run a version was registered from, by name when it can be loaded (it may have been deleted). */
export function ProducedBy({ runId }: { runId: string }) {
  const run = useQuery({ ...runQueryOptions(runId), retry: false });
  const gone = run.error instanceof ApiError && run.error.status === 404;
  return (
    <span className="data-run" data-testid="model-source-run">
      <Link to={`/runs/${encodeURIComponent(runId)}`} className={run.data?.info.display_name ? undefined : 'mono'}>
        {run.data?.info.display_name || runId}
      </Link>
      {run.data && <StatusBadge status={run.data.info.status} />}
      {gone && <span className="muted">(run deleted)</span>}
    </span>
  );
}

function RunCard({ model }: { model: ModelInfo }) {
  const runId = model.run_id ?? '';
  const run = useQuery({ ...runQueryOptions(runId), retry: false, enabled: runId !== '' });
  const gone = run.error instanceof ApiError && run.error.status === 404;

  if (!model.run_id) {
    return (
      <DataCard title="Produced by" testId="model-lineage-run">
        <EmptyState
          title="Registered outside a run"
          actions={
            <Snippet
              label="Register from a run, and the run and its experiment are recorded here"
              code={`run.upload_file("outputs/model.pkl", "model.pkl")\nrun.register_model(${pythonString(model.name)}, "outputs/model.pkl")`}
            />
          }
        >
          This version was registered from local files, so no run is known to have produced it.
        </EmptyState>
      </DataCard>
    );
  }
  const info = run.data?.info;
  const experimentId = info?.experiment_id ?? model.experiment_id;
  return (
    <DataCard title="Produced by" testId="model-lineage-run">
      {run.isPending ? (
        <Spinner label="Loading the run…" />
      ) : (
        <>
          {run.isError && !gone && <ErrorBanner error={run.error} title="Could not load the run" />}
          <dl className="facts data-facts">
            <dt>Run</dt>
            <dd>
              <span className="data-run" data-testid="model-lineage-run-link">
                <Link to={`/runs/${encodeURIComponent(model.run_id)}`} className={info?.display_name ? undefined : 'mono'}>
                  {info?.display_name || model.run_id}
                </Link>
                {info && <StatusBadge status={info.status} />}
                {gone && <span className="muted">(run deleted; its files stay with the model)</span>}
              </span>
            </dd>
            <dt>Experiment</dt>
            <dd data-testid="model-lineage-experiment">
              {experimentId ? (
                <Link to={`/experiments/${encodeURIComponent(experimentId)}`}>{info?.experiment_name ?? experimentId}</Link>
              ) : (
                <span className="muted">—</span>
              )}
            </dd>
            {info && (
              <>
                <dt>Run started</dt>
                <dd>
                  <RelativeTime value={info.start_time ?? info.created_time} />
                </dd>
                {info.user && (
                  <>
                    <dt>User</dt>
                    <dd>{info.user}</dd>
                  </>
                )}
              </>
            )}
            <dt>Run id</dt>
            <dd className="mono muted">{model.run_id}</dd>
          </dl>
        </>
      )}
    </DataCard>
  );
}

export function ModelLineage({ model }: { model: ModelInfo }) {
  const datasets = [...(model.datasets ?? [])].sort((a, b) => a.role.localeCompare(b.role));
  return (
    <div className="stack">
      <RunCard model={model} />
      <DataCard title={`Datasets (${datasets.length})`} testId="model-lineage-datasets" flush>
        {datasets.length > 0 ? (
          <div className="table-wrap">
            <table className="data">
              <caption className="visually-hidden">The dataset versions this model was registered with</caption>
              <thead>
                <tr>
                  <th scope="col">Role</th>
                  <th scope="col">Dataset</th>
                  <th scope="col">Version id</th>
                </tr>
              </thead>
              <tbody>
                {datasets.map((ref) => (
                  <tr key={`${ref.role}:${ref.dataset_id}`} data-testid="model-dataset" data-role={ref.role}>
                    <td className="mono">{ref.role}</td>
                    <td>
                      {ref.dataset_name ? (
                        <Link to={datasetUrl(ref.dataset_name, { version: ref.dataset_version })}>
                          {ref.dataset_name} <span className="muted">v{ref.dataset_version ?? '?'}</span>
                        </Link>
                      ) : (
                        <span className="muted">a deleted dataset version</span>
                      )}
                    </td>
                    <td className="mono muted">{ref.dataset_id}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <EmptyState
            title="No datasets recorded"
            actions={
              <Snippet
                label="Name the dataset versions it was trained on when registering"
                code={`train = ember.Dataset.get_by_name(ws, "iris", version=2)\nember.Model.register(ws, "outputs/model.pkl", ${pythonString(model.name)}, datasets=[("training", train)])`}
              />
            }
          />
        )}
      </DataCard>
    </div>
  );
}
