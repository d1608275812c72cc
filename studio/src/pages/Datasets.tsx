/**
 * Datasets (`/datasets`): the latest version of every registered dataset. Open one for its versions,
 * definition, preview, profile, files and lineage. Archived versions are left out unless "Show archived"
 * is ticked (kept in the address as `?archived=1`); each row shows its version's state.
 */
import './dataset/Dataset.css';

import { useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';

import { useDatasets } from '../api/queries';
import { EmptyState } from '../components/EmptyState';
import { ErrorBanner } from '../components/ErrorBanner';
import { PageHeader } from '../components/PageHeader';
import { RelativeTime } from '../components/RelativeTime';
import { Spinner } from '../components/Spinner';
import { datasetUrl } from '../lib/data';
import { plural } from '../lib/format';
import { useTitle } from '../lib/useTitle';
import { DatasetKindBadge, DatasetStateBadge, Snippet, TagList } from './dataset/DataParts';
import { datasetVersionUrl } from './dataset/DatasetLifecycle';
import { formatBytes } from './run/RunFiles';

const REGISTER_SNIPPET = `import ember

ws = ember.Workspace.from_config()
ds = ws.get_default_datastore()          # or ember.Datastore.get(ws, "raw")
ds.upload("./iris", target_path="iris")  # when the files are not there yet
ember.Dataset.Tabular.from_delimited_files([(ds, "iris/*.csv")]).register(ws, "iris")`;

const FILE_SNIPPET = `images = ember.Dataset.File.from_files(ds.path("images/**/*.png"))
images.register(ws, "images")`;

export default function Datasets() {
  useTitle('Datasets');
  const [params, setParams] = useSearchParams();
  // Mirrored in state: the router applies an address change a render late, and a checkbox tied only to
  // the address would flicker back.
  const [includeArchived, setIncludeArchived] = useState(params.get('archived') === '1');
  const datasets = useDatasets(includeArchived);
  const [query, setQuery] = useState('');
  const toggle = (
    <label className="dataset-archived-toggle">
      <input
        type="checkbox"
        checked={includeArchived}
        onChange={(event) => {
          const checked = event.target.checked;
          setIncludeArchived(checked);
          setParams(
            (old) => {
              const next = new URLSearchParams(old);
              if (checked) next.set('archived', '1');
              else next.delete('archived');
              return next;
            },
            { replace: true },
          );
        }}
        data-testid="datasets-show-archived"
      />
      Show archived
    </label>
  );

  const shown = useMemo(() => {
    const needle = query.trim().toLowerCase();
    return (datasets.data ?? []).filter(
      (d) =>
        !needle ||
        d.name.toLowerCase().includes(needle) ||
        (d.description ?? '').toLowerCase().includes(needle) ||
        Object.entries(d.tags ?? {}).some(([k, v]) => `${k}=${v}`.toLowerCase().includes(needle)),
    );
  }, [datasets.data, query]);

  return (
    <div className="page">
      <PageHeader
        title="Datasets"
        subtitle="Versioned references to files in datastores, with how to read them (latest version of each)."
        actions={
          !datasets.data || datasets.data.length === 0 ? (
            toggle
          ) : (
            <>
              {toggle}
              <label className="visually-hidden" htmlFor="dataset-filter">
                Filter datasets
              </label>
              <input
                id="dataset-filter"
                className="search"
                type="search"
                placeholder="Filter datasets"
                value={query}
                onChange={(event) => setQuery(event.target.value)}
              />
            </>
          )
        }
      />
      {datasets.isPending ? (
        <Spinner label="Loading datasets…" />
      ) : datasets.isError ? (
        <ErrorBanner error={datasets.error} title="Could not load datasets" onRetry={() => void datasets.refetch()} />
      ) : datasets.data.length === 0 && includeArchived ? (
        <section className="card">
          <EmptyState title="No datasets registered">Not even archived ones.</EmptyState>
        </section>
      ) : datasets.data.length === 0 ? (
        <section className="card">
          <EmptyState
            title="No datasets registered"
            actions={
              <>
                <Snippet label="Register a tabular dataset from CSV files" code={REGISTER_SNIPPET} />
                <Snippet label="or a set of files" code={FILE_SNIPPET} />
              </>
            }
          >
            A dataset names files in a datastore and how to read them; each registration with changes is a new
            version, and runs record which version they read or wrote.
          </EmptyState>
        </section>
      ) : (
        <section className="card" aria-label="Datasets">
          <div className="table-wrap">
            <table className="data" data-testid="datasets-table">
              <caption className="visually-hidden">{plural(shown.length, 'dataset')}</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col" className="num">
                    Version
                  </th>
                  <th scope="col">State</th>
                  <th scope="col">Kind</th>
                  <th scope="col" className="num">
                    Files
                  </th>
                  <th scope="col" className="num">
                    Size
                  </th>
                  <th scope="col">Registered</th>
                  <th scope="col">Tags</th>
                  <th scope="col">Description</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((dataset) => (
                  <tr key={dataset.id} data-testid="dataset-row" data-name={dataset.name}>
                    <td>
                      <Link
                        to={
                          dataset.state === 'archived'
                            ? datasetVersionUrl(dataset.name, dataset.version)
                            : datasetUrl(dataset.name)
                        }
                      >
                        {dataset.name}
                      </Link>
                    </td>
                    <td className="num" data-testid="dataset-version">
                      {dataset.version}
                    </td>
                    <td>
                      <DatasetStateBadge state={dataset.state} />
                    </td>
                    <td>
                      <DatasetKindBadge kind={dataset.kind} />
                    </td>
                    <td className="num">{dataset.file_count.toLocaleString()}</td>
                    <td className="num">{formatBytes(dataset.total_size)}</td>
                    <td>
                      <RelativeTime value={dataset.created_time} />
                    </td>
                    <td>
                      <TagList tags={dataset.tags} />
                    </td>
                    <td className="truncate muted" title={dataset.description ?? undefined}>
                      {dataset.description || '—'}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {shown.length === 0 && <p className="placeholder-note">No dataset matches “{query}”.</p>}
        </section>
      )}
    </div>
  );
}
