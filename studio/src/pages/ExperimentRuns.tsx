/**
 * The experiment page (`/experiments/:experimentId`): a placeholder until the runs table lands.
 * Replace this file as a whole; the route in App.tsx only imports its default export.
 */
import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router-dom';

import { api, unwrap } from '../api/client';
import { ErrorBanner } from '../components/ErrorBanner';
import { PageHeader } from '../components/PageHeader';
import { RelativeTime } from '../components/RelativeTime';
import { Spinner } from '../components/Spinner';
import { plural } from '../lib/format';
import { useTitle } from '../lib/useTitle';

export default function ExperimentRuns() {
  const { experimentId = '' } = useParams();
  const experiment = useQuery({
    queryKey: ['experiments', experimentId],
    queryFn: ({ signal }) =>
      unwrap(api.GET('/api/v1/experiments/{experiment_id}', { params: { path: { experiment_id: experimentId } }, signal })),
  });
  useTitle(experiment.data?.name ?? 'Experiment');

  if (experiment.isPending) return <Spinner label="Loading the experiment…" />;
  if (experiment.isError) {
    return (
      <div className="page">
        <PageHeader title="Experiment" breadcrumbs={<Link to="/experiments">Experiments</Link>} />
        <ErrorBanner error={experiment.error} title="Could not load the experiment" />
      </div>
    );
  }
  const info = experiment.data;
  return (
    <div className="page">
      <PageHeader
        title={info.name}
        subtitle={info.description || undefined}
        breadcrumbs={<Link to="/experiments">Experiments</Link>}
      />
      <section className="card">
        <div className="card-body padded">
          <dl className="facts">
            <dt>Runs</dt>
            <dd>{plural(info.run_count, 'run')}</dd>
            <dt>Last activity</dt>
            <dd>
              <RelativeTime value={info.last_activity_time ?? info.created_time} />
            </dd>
            <dt>Created</dt>
            <dd>
              <RelativeTime value={info.created_time} />
            </dd>
            <dt>ID</dt>
            <dd className="mono">{info.id}</dd>
          </dl>
        </div>
        <p className="placeholder-note">The runs table of this experiment is coming soon.</p>
      </section>
    </div>
  );
}
