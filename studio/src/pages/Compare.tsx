/**
 * Comparing runs (`/compare?runs=a,b,c`): a placeholder until the comparison view lands.
 * Replace this file as a whole; the route in App.tsx only imports its default export.
 */
import { Link, useSearchParams } from 'react-router-dom';

import { EmptyState } from '../components/EmptyState';
import { PageHeader } from '../components/PageHeader';
import { useTitle } from '../lib/useTitle';

export default function Compare() {
  useTitle('Compare runs');
  const [params] = useSearchParams();
  const runIds = (params.get('runs') ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  return (
    <div className="page">
      <PageHeader title="Compare runs" breadcrumbs={<Link to="/experiments">Experiments</Link>} />
      <section className="card">
        {runIds.length === 0 ? (
          <EmptyState title="No runs to compare">
            Pick runs on an experiment's page, or open <code>/compare?runs=ID,ID</code>.
          </EmptyState>
        ) : (
          <div className="card-body padded">
            <ul>
              {runIds.map((id) => (
                <li key={id}>
                  <Link to={`/runs/${encodeURIComponent(id)}`} className="mono">
                    {id}
                  </Link>
                </li>
              ))}
            </ul>
            <p className="muted">The side-by-side comparison is coming soon.</p>
          </div>
        )}
      </section>
    </div>
  );
}
