/**
 * The run page (`/runs/:runId/*`, tabs below it): a placeholder until the run details land.
 * Replace this file as a whole; the route in App.tsx only imports its default export.
 */
import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router-dom';

import { api, unwrap } from '../api/client';
import { ErrorBanner } from '../components/ErrorBanner';
import { PageHeader } from '../components/PageHeader';
import { RelativeTime } from '../components/RelativeTime';
import { Spinner } from '../components/Spinner';
import { StatusBadge } from '../components/StatusBadge';
import { formatDuration, runDuration } from '../lib/format';
import { useTitle } from '../lib/useTitle';

export default function RunDetail() {
  const { runId = '' } = useParams();
  const run = useQuery({
    queryKey: ['runs', runId],
    queryFn: ({ signal }) => unwrap(api.GET('/api/v1/runs/{run_id}', { params: { path: { run_id: runId } }, signal })),
  });
  useTitle(run.data?.info.display_name ?? 'Run');

  if (run.isPending) return <Spinner label="Loading the run…" />;
  if (run.isError) {
    return (
      <div className="page">
        <PageHeader title="Run" breadcrumbs={<Link to="/experiments">Experiments</Link>} />
        <ErrorBanner error={run.error} title="Could not load the run" />
      </div>
    );
  }
  const { info } = run.data;
  return (
    <div className="page">
      <PageHeader
        title={info.display_name || info.id}
        breadcrumbs={
          <>
            <Link to="/experiments">Experiments</Link> /{' '}
            <Link to={`/experiments/${encodeURIComponent(info.experiment_id)}`}>
              {info.experiment_name ?? info.experiment_id}
            </Link>
          </>
        }
        actions={<StatusBadge status={info.status} />}
      />
      <section className="card">
        <div className="card-body padded">
          <dl className="facts">
            <dt>Created</dt>
            <dd>
              <RelativeTime value={info.created_time} />
            </dd>
            <dt>Duration</dt>
            <dd>{formatDuration(runDuration(info))}</dd>
            <dt>ID</dt>
            <dd className="mono">{info.id}</dd>
          </dl>
        </div>
        <p className="placeholder-note">Metrics, params, outputs and logs of this run are coming soon.</p>
      </section>
    </div>
  );
}
