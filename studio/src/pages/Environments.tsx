import { useQuery } from '@tanstack/react-query';

import { api, unwrap } from '../api/client';
import { EmptyState } from '../components/EmptyState';
import { ErrorBanner } from '../components/ErrorBanner';
import { PageHeader } from '../components/PageHeader';
import { RelativeTime } from '../components/RelativeTime';
import { Spinner } from '../components/Spinner';
import { useTitle } from '../lib/useTitle';

export default function Environments() {
  useTitle('Environments');
  const environments = useQuery({
    queryKey: ['environments'],
    queryFn: ({ signal }) => unwrap(api.GET('/api/v1/environments', { signal })),
  });

  return (
    <div className="page">
      <PageHeader
        title="Environments"
        subtitle="Versioned Python versions, packages and variables that runs execute in (latest version of each)."
      />
      {environments.isPending ? (
        <Spinner label="Loading environments…" />
      ) : environments.isError ? (
        <ErrorBanner
          error={environments.error}
          title="Could not load environments"
          onRetry={() => void environments.refetch()}
        />
      ) : environments.data.length === 0 ? (
        <section className="card">
          <EmptyState title="No environments registered">
            Register one with <code>ember environment register NAME -f env.yml</code>, or submit a run with an{' '}
            <code>ember.Environment</code>: it is registered on submit.
          </EmptyState>
        </section>
      ) : (
        <section className="card" aria-label="Environments">
          <div className="table-wrap">
            <table className="data">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col" className="num">
                    Version
                  </th>
                  <th scope="col">Python</th>
                  <th scope="col">Packages</th>
                  <th scope="col">Registered</th>
                  <th scope="col">Description</th>
                </tr>
              </thead>
              <tbody>
                {environments.data.map((env) => {
                  const pip = env.spec.pip ?? [];
                  return (
                    <tr key={`${env.name}:${env.version}`}>
                      <td>{env.name}</td>
                      <td className="num">{env.version}</td>
                      <td>{env.spec.inherit_current ? 'current interpreter' : (env.spec.python ?? '—')}</td>
                      <td className="truncate mono" title={pip.join('\n') || undefined}>
                        {pip.length === 0 ? <span className="muted">none</span> : pip.join(', ')}
                      </td>
                      <td>
                        <RelativeTime value={env.created_time} />
                      </td>
                      <td className="truncate muted">{env.description || '—'}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </section>
      )}
    </div>
  );
}
