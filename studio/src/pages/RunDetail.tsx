/**
 * The run page (`/runs/:runId/*`): a header with the run's status and a Cancel button, and tabs
 * that are sub-routes, so every view is a deep link:
 *
 *   /runs/:id                                   Overview
 *   /runs/:id/metrics?x=step&smooth=0.6&log=1   Metrics (charts and tables)
 *   /runs/:id/outputs?path=outputs/model.json   Outputs (file tree and preview)
 *   /runs/:id/logs?name=std_log.txt             Logs (followed live while the run is active)
 *   /runs/:id/snapshot?path=train.py            Snapshot (source files, highlighted)
 *
 * The run is polled every 2 s while its status is live (RUN_STATUSES[status].live), and each tab
 * gets `active` to poll its own data.
 */
import './run/RunDetail.css';

import { Link, NavLink, Route, Routes, useParams } from 'react-router-dom';

import { useRun } from '../api/queries';
import { EmptyState } from '../components/EmptyState';
import { ErrorBanner } from '../components/ErrorBanner';
import { PageHeader } from '../components/PageHeader';
import { Spinner } from '../components/Spinner';
import { RUN_STATUSES, StatusBadge } from '../components/StatusBadge';
import { useTitle } from '../lib/useTitle';
import { RunCancelButton } from './run/RunCancelButton';
import { RunLogs } from './run/RunLogs';
import { RunMetrics } from './run/RunMetrics';
import { RunOutputs } from './run/RunOutputs';
import { RunOverview } from './run/RunOverview';
import { RunSnapshot } from './run/RunSnapshot';

const TABS = [
  { to: '', label: 'Overview', id: 'overview' },
  { to: 'metrics', label: 'Metrics', id: 'metrics' },
  { to: 'outputs', label: 'Outputs', id: 'outputs' },
  { to: 'logs', label: 'Logs', id: 'logs' },
  { to: 'snapshot', label: 'Snapshot', id: 'snapshot' },
] as const;

/** How often a live run's status (and each tab's data) is refreshed. */
export const LIVE_REFRESH_MS = 2000;

export default function RunDetail() {
  const { runId = '' } = useParams();
  const run = useRun(runId, { pollMs: LIVE_REFRESH_MS });
  useTitle(run.data ? run.data.info.display_name || run.data.info.id : 'Run');

  if (run.isPending) return <Spinner label="Loading the run…" />;
  if (run.isError) {
    return (
      <div className="page">
        <PageHeader title="Run" breadcrumbs={<Link to="/experiments">Experiments</Link>} />
        <ErrorBanner error={run.error} title="Could not load the run" onRetry={() => void run.refetch()} />
      </div>
    );
  }
  const details = run.data;
  const { info } = details;
  const active = RUN_STATUSES[info.status]?.live ?? false;
  const base = `/runs/${encodeURIComponent(info.id)}`;
  return (
    <div className="page run-page">
      <PageHeader
        title={info.display_name || info.id}
        subtitle={info.display_name ? <span className="mono">{info.id}</span> : undefined}
        breadcrumbs={
          <>
            <Link to="/experiments">Experiments</Link> /{' '}
            <Link to={`/experiments/${encodeURIComponent(info.experiment_id)}`}>
              {info.experiment_name ?? info.experiment_id}
            </Link>
            {info.parent_run_id && (
              <>
                {' '}
                / <Link to={`/runs/${encodeURIComponent(info.parent_run_id)}`}>parent run</Link>
              </>
            )}
          </>
        }
        actions={
          <>
            <StatusBadge status={info.status} />
            {active && <RunCancelButton run={info} />}
          </>
        }
      />
      <nav className="tabs" aria-label="Run views">
        {TABS.map((tab) => (
          <NavLink
            key={tab.id}
            to={tab.to ? `${base}/${tab.to}` : base}
            end={tab.to === ''}
            className={({ isActive }) => `tab${isActive ? ' active' : ''}`}
            data-testid={`tab-${tab.id}`}
          >
            {tab.label}
          </NavLink>
        ))}
      </nav>
      <Routes>
        <Route index element={<RunOverview run={details} active={active} />} />
        <Route path="metrics" element={<RunMetrics run={details} active={active} />} />
        <Route path="outputs" element={<RunOutputs run={details} active={active} />} />
        <Route path="logs" element={<RunLogs run={details} active={active} />} />
        <Route path="snapshot" element={<RunSnapshot run={details} />} />
        <Route
          path="*"
          element={
            <section className="card">
              <EmptyState title="This run has no such view">
                <Link to={base}>Back to the run's overview</Link>
              </EmptyState>
            </section>
          }
        />
      </Routes>
    </div>
  );
}
