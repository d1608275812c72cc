import { useMemo, useState } from 'react';
import { Link } from 'react-router-dom';

import { useExperiments } from '../api/queries';
import { EmptyState } from '../components/EmptyState';
import { ErrorBanner } from '../components/ErrorBanner';
import { PageHeader } from '../components/PageHeader';
import { RelativeTime } from '../components/RelativeTime';
import { Spinner } from '../components/Spinner';
import { plural } from '../lib/format';
import { useTitle } from '../lib/useTitle';

export default function Experiments() {
  useTitle('Experiments');
  const [showArchived, setShowArchived] = useState(false);
  const [query, setQuery] = useState('');
  // "all" also holds deleted experiments, which belong to the (future) recycle bin, not this list.
  const experiments = useExperiments(showArchived ? 'all' : 'active');

  const shown = useMemo(() => {
    const needle = query.trim().toLowerCase();
    return (experiments.data?.experiments ?? []).filter(
      (e) =>
        e.lifecycle_stage !== 'deleted' &&
        (!needle || e.name.toLowerCase().includes(needle) || (e.description ?? '').toLowerCase().includes(needle)),
    );
  }, [experiments.data, query]);

  return (
    <div className="page">
      <PageHeader
        title="Experiments"
        subtitle="Named groups of runs. Open one to see and compare its runs."
        actions={
          <>
            <label className="visually-hidden" htmlFor="experiment-filter">
              Filter experiments
            </label>
            <input
              id="experiment-filter"
              className="search"
              type="search"
              placeholder="Filter experiments"
              value={query}
              onChange={(event) => setQuery(event.target.value)}
            />
            <label className="toggle">
              <input
                type="checkbox"
                checked={showArchived}
                onChange={(event) => setShowArchived(event.target.checked)}
              />
              Show archived
            </label>
          </>
        }
      />
      {experiments.isPending ? (
        <Spinner label="Loading experiments…" />
      ) : experiments.isError ? (
        <ErrorBanner
          error={experiments.error}
          title="Could not load experiments"
          onRetry={() => void experiments.refetch()}
        />
      ) : experiments.data.experiments.length === 0 ? (
        <section className="card">
          <EmptyState title={showArchived ? 'No experiments' : 'No active experiments'}>
            An experiment is created the first time a run names it: <code>ember.Experiment(ws, "name")</code> or{' '}
            <code>ember run submit train.py --experiment name</code>.
          </EmptyState>
        </section>
      ) : (
        <section className="card" aria-label="Experiments">
          <div className="table-wrap">
            <table className="data">
              <caption className="visually-hidden">
                {plural(shown.length, 'experiment')}
                {showArchived ? ', archived included' : ''}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col" className="num">
                    Runs
                  </th>
                  <th scope="col">Last activity</th>
                  <th scope="col">Created</th>
                  <th scope="col">Description</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((experiment) => (
                  <tr key={experiment.id} data-testid="experiment-row">
                    <td>
                      <Link to={`/experiments/${encodeURIComponent(experiment.id)}`}>{experiment.name}</Link>
                      {experiment.lifecycle_stage === 'archived' && (
                        <>
                          {' '}
                          <span className="badge">Archived</span>
                        </>
                      )}
                    </td>
                    <td className="num">{experiment.run_count.toLocaleString()}</td>
                    <td>
                      <RelativeTime value={experiment.last_activity_time ?? experiment.created_time} />
                    </td>
                    <td>
                      <RelativeTime value={experiment.created_time} />
                    </td>
                    <td className="truncate muted" title={experiment.description ?? undefined}>
                      {experiment.description || '—'}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {shown.length === 0 && <p className="placeholder-note">No experiment matches “{query}”.</p>}
          {experiments.data.next_page_token && (
            <p className="placeholder-note">Showing the 1,000 most recently active experiments.</p>
          )}
        </section>
      )}
    </div>
  );
}
