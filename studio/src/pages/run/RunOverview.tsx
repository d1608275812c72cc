/**
 * The run's overview: when and where it ran, what it was given (configuration, git, params) and
 * what it left (properties, latest metrics, error), its tags and description (editable), and its
 * parent and child runs.
 */
import type { ReactNode } from 'react';
import { Link } from 'react-router-dom';

import type { RunDetails } from '../../api/client';
import { useRunConfiguration, useRunSearch } from '../../api/queries';
import { ErrorBanner } from '../../components/ErrorBanner';
import { RelativeTime } from '../../components/RelativeTime';
import { RunsTable } from '../../components/RunsTable';
import { Spinner } from '../../components/Spinner';
import { StatusBadge } from '../../components/StatusBadge';
import { formatDuration, formatNumber, runDuration } from '../../lib/format';
import { RunDatasets } from './RunDatasets';
import { RunDescription, RunTags } from './RunEditors';
import { RunModels } from './RunModels';

function Card({ title, children, actions, testId }: { title: string; children: ReactNode; actions?: ReactNode; testId?: string }) {
  return (
    <section className="card" aria-label={title} data-testid={testId}>
      <header>
        <h2>{title}</h2>
        {actions}
      </header>
      <div className="card-body">{children}</div>
    </section>
  );
}

/** A two-column table of names and values, or a muted line when there are none. */
function KeyValues({ values, empty, numeric = false }: { values: Record<string, string | number>; empty: string; numeric?: boolean }) {
  const entries = Object.entries(values).sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }));
  if (entries.length === 0) return <p className="muted run-none">{empty}</p>;
  return (
    <div className="table-wrap run-kv">
      <table className="data">
        <tbody>
          {entries.map(([key, value]) => (
            <tr key={key}>
              <th scope="row" className="mono">
                {key}
              </th>
              <td className={numeric ? 'mono num' : 'mono'}>
                {typeof value === 'number' ? formatNumber(value) : value}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RunChildren({ run }: { run: RunDetails }) {
  const children = useRunSearch(
    { parent_run_id: run.info.id, max_results: 200, lifecycle: 'all', order_by: ['attributes.created_time ASC'] },
    { refetchInterval: 10_000 },
  );
  if (children.isPending) return <Spinner label="Loading child runs…" />;
  if (children.isError) return <ErrorBanner error={children.error} title="Could not load the child runs" />;
  const runs = children.data.runs;
  if (runs.length === 0) return null;
  return (
    <Card title={`Child runs (${runs.length}${children.data.next_page_token ? '+' : ''})`} testId="run-children">
      <RunsTable runs={runs} caption="Child runs" />
    </Card>
  );
}

function GitFacts({ git }: { git: Record<string, unknown> }) {
  const text = (key: string) => (typeof git[key] === 'string' && git[key] !== '' ? (git[key] as string) : null);
  const commit = text('commit');
  return (
    <>
      <dt>Repository</dt>
      <dd className="mono">{text('repository') ?? <span className="muted">—</span>}</dd>
      <dt>Branch</dt>
      <dd className="mono">{text('branch') ?? <span className="muted">detached</span>}</dd>
      <dt>Commit</dt>
      <dd className="mono" title={commit ?? undefined}>
        {commit ? commit.slice(0, 12) : '—'}
        {git['dirty'] === true && (
          <span className="run-chip warn" title="The working tree had uncommitted changes at submit time">
            dirty
          </span>
        )}
      </dd>
    </>
  );
}

export function RunOverview({ run, active }: { run: RunDetails; active: boolean }) {
  const { info } = run;
  const configuration = useRunConfiguration(info.id);
  const config = configuration.data?.config;
  const git = configuration.data?.git;
  const where = configuration.isPending ? '…' : config ? config.compute_target : 'interactive (logged from a script or notebook)';

  return (
    <div className="run-overview">
      {info.error && (
        <section className="card run-error" aria-label="Error" data-testid="run-error">
          <header>
            <h2>Error</h2>
            {info.error.exit_code !== null && info.error.exit_code !== undefined && (
              <span className="muted">exit code {info.error.exit_code}</span>
            )}
          </header>
          <div className="card-body">
            <p className="run-error-message">{info.error.message}</p>
            {info.error.traceback && (
              <pre className="run-pre" aria-label="Traceback">
                {info.error.traceback}
              </pre>
            )}
          </div>
        </section>
      )}
      <div className="run-columns">
        <div className="stack">
          <Card title="Details">
            <dl className="facts run-facts">
              <dt>Status</dt>
              <dd>
                <StatusBadge status={info.status} />
              </dd>
              <dt>Created</dt>
              <dd>
                <RelativeTime value={info.created_time} />
              </dd>
              <dt>Started</dt>
              <dd>
                <RelativeTime value={info.start_time} />
              </dd>
              <dt>Ended</dt>
              <dd>{info.end_time ? <RelativeTime value={info.end_time} /> : <span className="muted">{active ? 'still running' : '—'}</span>}</dd>
              <dt>Duration</dt>
              <dd data-testid="run-duration">{formatDuration(runDuration(info))}</dd>
              <dt>User</dt>
              <dd>{info.user ?? <span className="muted">—</span>}</dd>
              <dt>Run type</dt>
              <dd>{info.run_type}</dd>
              <dt>Where</dt>
              <dd data-testid="run-where">
                {config ? <Link to="/compute">{where}</Link> : <span className="muted">{where}</span>}
              </dd>
              <dt>Experiment</dt>
              <dd>
                <Link to={`/experiments/${encodeURIComponent(info.experiment_id)}`}>
                  {info.experiment_name ?? info.experiment_id}
                </Link>
              </dd>
              {info.parent_run_id && (
                <>
                  <dt>Parent run</dt>
                  <dd>
                    <Link className="mono" to={`/runs/${encodeURIComponent(info.parent_run_id)}`}>
                      {info.parent_run_id}
                    </Link>
                  </dd>
                </>
              )}
              {info.lifecycle_stage && info.lifecycle_stage !== 'active' && (
                <>
                  <dt>Lifecycle</dt>
                  <dd>{info.lifecycle_stage}</dd>
                </>
              )}
              {git && <GitFacts git={git} />}
            </dl>
          </Card>
          <Card title="Description">
            <RunDescription run={info} />
          </Card>
          <Card title="Tags">
            <RunTags runId={info.id} tags={run.tags ?? {}} />
          </Card>
        </div>
        <div className="stack">
          <Card title="Parameters">
            <KeyValues values={run.params ?? {}} empty="No parameters logged." />
          </Card>
          <Card title="Metrics (latest)">
            <KeyValues values={run.metrics ?? {}} empty="No metrics logged." numeric />
          </Card>
          <Card title="Properties">
            <KeyValues values={run.properties ?? {}} empty="No properties." />
          </Card>
        </div>
      </div>
      <RunDatasets runId={info.id} active={active} />
      <RunModels runId={info.id} active={active} />
      {configuration.isError && <ErrorBanner error={configuration.error} title="Could not load the run configuration" />}
      {config && configuration.data && (
        <Card title="Run configuration" testId="run-configuration">
          <dl className="facts run-facts">
            <dt>Script</dt>
            <dd className="mono">{config.script}</dd>
            <dt>Arguments</dt>
            <dd className="mono">
              {config.arguments && config.arguments.length > 0 ? (
                config.arguments.map((arg, i) => (
                  <span key={i} className="run-arg">
                    {arg}
                  </span>
                ))
              ) : (
                <span className="muted">none</span>
              )}
            </dd>
            <dt>Environment</dt>
            <dd>
              {config.environment ? (
                <Link to="/environments" className="mono">
                  {config.environment.name}
                  {config.environment.version ? ` v${config.environment.version}` : ' (latest)'}
                </Link>
              ) : (
                <span className="muted">the submitting interpreter</span>
              )}
            </dd>
            <dt>Compute target</dt>
            <dd className="mono">{config.compute_target}</dd>
            {config.max_run_duration_seconds && (
              <>
                <dt>Time limit</dt>
                <dd>{formatDuration(config.max_run_duration_seconds)}</dd>
              </>
            )}
            {configuration.data.python_executable && (
              <>
                <dt>Python</dt>
                <dd className="mono">{configuration.data.python_executable}</dd>
              </>
            )}
            {configuration.data.snapshot_digest && (
              <>
                <dt>Snapshot</dt>
                <dd className="mono">
                  <Link to={`/runs/${encodeURIComponent(info.id)}/snapshot`} title={configuration.data.snapshot_digest}>
                    {configuration.data.snapshot_digest.slice(0, 16)}
                  </Link>
                </dd>
              </>
            )}
          </dl>
          <h3 className="run-subheading">Environment variables</h3>
          <KeyValues values={config.env_vars ?? {}} empty="None set." />
        </Card>
      )}
      <RunChildren run={run} />
    </div>
  );
}
