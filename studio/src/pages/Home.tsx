import { Link } from 'react-router-dom';

import { useDatasets, useDatastores, useExperiments, useModels, useRunSearch, useWorkspace } from '../api/queries';
import { EmptyState } from '../components/EmptyState';
import { ErrorBanner } from '../components/ErrorBanner';
import { PageHeader } from '../components/PageHeader';
import { RunsTable } from '../components/RunsTable';
import { Spinner } from '../components/Spinner';
import { ACTIVE_STATUSES } from '../components/StatusBadge';
import { useTitle } from '../lib/useTitle';

const ACTIVE_FILTER = `attributes.status IN (${ACTIVE_STATUSES.map((s) => `'${s}'`).join(', ')})`;

const SDK_SNIPPET = `import ember

ws = ember.Workspace.from_config()
exp = ember.Experiment(ws, "my-first-experiment")
with exp.start_logging(display_name="baseline") as run:
    run.log_params({"lr": 0.01})
    for step in range(100):
        run.log("loss", 1 / (step + 1), step=step)`;

const CLI_SNIPPET = `ember run submit train.py --experiment my-first-experiment --stream -- --lr 0.01`;

function GettingStarted() {
  return (
    <section className="card" aria-labelledby="getting-started">
      <EmptyState
        title="No runs yet"
        actions={
          <>
            <div className="snippet-label">Log a run from Python</div>
            <pre className="snippet">
              <code>{SDK_SNIPPET}</code>
            </pre>
            <div className="snippet-label">or submit a script from the command line</div>
            <pre className="snippet">
              <code>{CLI_SNIPPET}</code>
            </pre>
          </>
        }
      >
        <span id="getting-started">
          Runs you log with the SDK or submit with <code>ember run submit</code> show up here as they happen.
        </span>
      </EmptyState>
    </section>
  );
}

function Stat({ label, value, to }: { label: string; value: string; to?: string }) {
  return (
    <div className="card stat">
      <div className="stat-label">{label}</div>
      <div className="stat-value" data-testid={`stat-${label.toLowerCase().replace(/\s+/g, '-')}`}>
        {to ? <Link to={to}>{value}</Link> : value}
      </div>
    </div>
  );
}

export default function Home() {
  useTitle('Home');
  const workspace = useWorkspace();
  const experiments = useExperiments('active');
  const datasets = useDatasets();
  const datastores = useDatastores();
  const models = useModels({ latest: true });
  const recent = useRunSearch({ max_results: 10, lifecycle: 'active', order_by: ['attributes.created_time DESC'] });
  const active = useRunSearch(
    { max_results: 50, lifecycle: 'active', filter: ACTIVE_FILTER, order_by: ['attributes.created_time DESC'] },
    { refetchInterval: 5000 },
  );

  const experimentList = experiments.data?.experiments ?? [];
  const more = experiments.data?.next_page_token ? '+' : '';
  const runCount = experimentList.reduce((sum, e) => sum + e.run_count, 0);
  const activeCount = active.data ? `${active.data.runs.length}${active.data.next_page_token ? '+' : ''}` : '…';

  return (
    <div className="page">
      <PageHeader
        title={workspace.data ? workspace.data.name : 'Home'}
        subtitle="Experiments, runs, what is running now, and the data and models in this workspace."
      />
      {experiments.isError && <ErrorBanner error={experiments.error} onRetry={() => void experiments.refetch()} />}
      <div className="stats">
        <Stat
          label="Experiments"
          value={experiments.data ? `${experimentList.length}${more}` : '…'}
          to="/experiments"
        />
        <Stat label="Runs" value={experiments.data ? `${runCount}${more}` : '…'} />
        <Stat label="Running now" value={activeCount} />
        <Stat label="Datasets" value={datasets.data ? String(datasets.data.length) : datasets.isError ? '—' : '…'} to="/datasets" />
        <Stat label="Datastores" value={datastores.data ? String(datastores.data.length) : datastores.isError ? '—' : '…'} to="/datastores" />
        <Stat label="Models" value={models.data ? String(models.data.length) : models.isError ? '—' : '…'} to="/models" />
      </div>

      {recent.isPending ? (
        <Spinner label="Loading runs…" />
      ) : recent.isError ? (
        <ErrorBanner error={recent.error} title="Could not load runs" onRetry={() => void recent.refetch()} />
      ) : recent.data.runs.length === 0 ? (
        <GettingStarted />
      ) : (
        <div className="stack">
          <section className="card" aria-labelledby="running-now">
            <header>
              <h2 id="running-now">Running now</h2>
            </header>
            {active.isError ? (
              <div className="card-body">
                <ErrorBanner error={active.error} title="Could not load active runs" />
              </div>
            ) : active.data && active.data.runs.length > 0 ? (
              <RunsTable runs={active.data.runs} caption="Runs that have not ended" />
            ) : active.data ? (
              <p className="card-body muted">Nothing is running. Submitted and live runs show up here.</p>
            ) : (
              <Spinner />
            )}
          </section>
          <section className="card" aria-labelledby="recent-runs">
            <header>
              <h2 id="recent-runs">Recent runs</h2>
            </header>
            <RunsTable runs={recent.data.runs} caption="The most recently created runs" />
          </section>
        </div>
      )}
    </div>
  );
}
