import { useQuery } from '@tanstack/react-query';

import { api, unwrap } from '../api/client';
import { EmptyState } from '../components/EmptyState';
import { ErrorBanner } from '../components/ErrorBanner';
import { PageHeader } from '../components/PageHeader';
import { RelativeTime } from '../components/RelativeTime';
import { Spinner } from '../components/Spinner';
import { useTitle } from '../lib/useTitle';

export default function Compute() {
  useTitle('Compute');
  const targets = useQuery({
    queryKey: ['compute'],
    queryFn: ({ signal }) => unwrap(api.GET('/api/v1/compute', { signal })),
    refetchInterval: 10_000,
  });

  return (
    <div className="page">
      <PageHeader
        title="Compute"
        subtitle="Where submitted runs execute, how many may run at once, and how busy each target is."
      />
      {targets.isPending ? (
        <Spinner label="Loading compute targets…" />
      ) : targets.isError ? (
        <ErrorBanner error={targets.error} title="Could not load compute targets" onRetry={() => void targets.refetch()} />
      ) : targets.data.length === 0 ? (
        <section className="card">
          <EmptyState title="No compute targets">
            The <code>local</code> target appears when the first run is submitted.
          </EmptyState>
        </section>
      ) : (
        <section className="card" aria-label="Compute targets">
          <div className="table-wrap">
            <table className="data">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Kind</th>
                  <th scope="col" className="num">
                    Running
                  </th>
                  <th scope="col" className="num">
                    Queued
                  </th>
                  <th scope="col" className="num">
                    Max concurrent runs
                  </th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {targets.data.map((target) => (
                  <tr key={target.name}>
                    <td>{target.name}</td>
                    <td>
                      <span className="badge">{target.kind}</span>
                    </td>
                    <td className="num">{target.active_runs}</td>
                    <td className="num">{target.queued_runs}</td>
                    <td className="num">{target.max_concurrent_runs}</td>
                    <td>
                      <RelativeTime value={target.created_time} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p className="placeholder-note">
            Change a target's capacity with <code>ember compute update NAME --max-concurrent-runs N</code>.
          </p>
        </section>
      )}
    </div>
  );
}
