/**
 * Datastores (`/datastores`): the workspace's storage locations — its own, local folders, S3 buckets,
 * Azure Blob containers — where they point and how they are reached (never their credentials).
 */
import './dataset/Dataset.css';

import { Link } from 'react-router-dom';

import { useDatastores } from '../api/queries';
import { EmptyState } from '../components/EmptyState';
import { ErrorBanner } from '../components/ErrorBanner';
import { PageHeader } from '../components/PageHeader';
import { RelativeTime } from '../components/RelativeTime';
import { Spinner } from '../components/Spinner';
import { credentialLabel } from '../lib/data';
import { plural } from '../lib/format';
import { useTitle } from '../lib/useTitle';
import { DatastoreKindBadge, Snippet } from './dataset/DataParts';

const REGISTER_SNIPPET = `import ember

ws = ember.Workspace.from_config()
ds = ember.Datastore.register_local(ws, "raw", "/data/raw")
# or ember.Datastore.register_s3(ws, "lake", bucket="my-bucket", prefix="raw/")`;

export default function Datastores() {
  useTitle('Datastores');
  const datastores = useDatastores();

  return (
    <div className="page">
      <PageHeader
        title="Datastores"
        subtitle="Where data lives: the workspace's own storage, local folders and cloud containers. Open one to browse it."
      />
      {datastores.isPending ? (
        <Spinner label="Loading datastores…" />
      ) : datastores.isError ? (
        <ErrorBanner
          error={datastores.error}
          title="Could not load datastores"
          onRetry={() => void datastores.refetch()}
        />
      ) : datastores.data.length === 0 ? (
        <section className="card">
          <EmptyState title="No datastores registered" actions={<Snippet label="Register one from Python" code={REGISTER_SNIPPET} />}>
            A datastore names a storage location once, so datasets and runs can refer to files in it.
          </EmptyState>
        </section>
      ) : (
        <>
          <section className="card" aria-label="Datastores">
            <div className="table-wrap">
              <table className="data" data-testid="datastores-table">
                <caption className="visually-hidden">{plural(datastores.data.length, 'datastore')}</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Kind</th>
                    <th scope="col">Location</th>
                    <th scope="col">Credentials</th>
                    <th scope="col">Registered</th>
                    <th scope="col">Description</th>
                  </tr>
                </thead>
                <tbody>
                  {datastores.data.map((store) => (
                    <tr key={store.name} data-testid="datastore-row" data-name={store.name}>
                      <td className="data-name">
                        <Link to={`/datastores/${encodeURIComponent(store.name)}`}>{store.name}</Link>
                        {store.is_default && (
                          <>
                            {' '}
                            <span className="badge tone-active" title="Runs and outputs go here unless told otherwise">
                              default
                            </span>
                          </>
                        )}
                      </td>
                      <td>
                        <DatastoreKindBadge kind={store.kind} />
                      </td>
                      <td className="truncate mono data-url" title={store.url}>
                        {store.url}
                      </td>
                      <td>{credentialLabel(store.credential_type, store.credential_passthrough)}</td>
                      <td>
                        <RelativeTime value={store.created_time} />
                      </td>
                      <td className="truncate muted data-description" title={store.description ?? undefined}>
                        {store.description || '—'}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
          {datastores.data.length === 1 && (
            <section className="card">
              <EmptyState
                title="Only the workspace's own storage so far"
                actions={<Snippet label="Register a folder or a bucket from Python" code={REGISTER_SNIPPET} />}
              >
                Register the places your data already lives; datasets then point at files there without copying them.
              </EmptyState>
            </section>
          )}
        </>
      )}
    </div>
  );
}
