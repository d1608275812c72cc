/**
 * One datastore (`/datastores/:name?path=iris/2024`): what it is, and its files one folder at a time,
 * with breadcrumbs up to its root. The folder is in the address, so every folder is a deep link.
 */
import './dataset/Dataset.css';

import { Link, useParams, useSearchParams } from 'react-router-dom';

import type { DatastoreInfo } from '../api/types';
import { useDatastore, useDatastoreFiles } from '../api/queries';
import { EmptyState } from '../components/EmptyState';
import { ErrorBanner } from '../components/ErrorBanner';
import { FileIcon, FolderIcon } from '../components/Icons';
import { PageHeader } from '../components/PageHeader';
import { RelativeTime } from '../components/RelativeTime';
import { Spinner } from '../components/Spinner';
import {
  baseName,
  breadcrumbs,
  credentialLabel,
  datastoreFolderUrl,
  epochSecondsToIso,
  normalizePath,
  pythonString,
} from '../lib/data';
import { plural } from '../lib/format';
import { useTitle } from '../lib/useTitle';
import { formatBytes } from './run/RunFiles';
import { DataCard, DatastoreKindBadge, Snippet } from './dataset/DataParts';

/** Entries asked for per folder (the server caps a listing and says when it did). */
const LISTING_LIMIT = 1000;

function Facts({ store }: { store: DatastoreInfo }) {
  const rows: [string, string | null | undefined][] = [
    ['Root', store.kind === 'local' ? null : store.root], // a local folder's location is its root
    ['Bucket', store.bucket],
    ['Account', store.account_name],
    ['Container', store.container_name],
    ['Prefix', store.prefix || null],
    ['Region', store.region],
    ['Endpoint', store.endpoint],
  ];
  return (
    <dl className="facts data-facts">
      <dt>Kind</dt>
      <dd>
        <DatastoreKindBadge kind={store.kind} isDefault={store.is_default} />
      </dd>
      <dt>Location</dt>
      <dd className="mono">{store.url}</dd>
      {rows
        .filter(([, value]) => value)
        .map(([label, value]) => (
          <FactRow key={label} label={label} value={value ?? ''} />
        ))}
      <dt>Credentials</dt>
      <dd>{credentialLabel(store.credential_type, store.credential_passthrough)}</dd>
      <dt>Registered</dt>
      <dd>
        <RelativeTime value={store.created_time} />
      </dd>
      {store.description && (
        <>
          <dt>Description</dt>
          <dd>{store.description}</dd>
        </>
      )}
    </dl>
  );
}

function filesSnippet(name: string, path: string): string {
  const folder = path ? `ds.path(${pythonString(path)})` : 'ds.path()';
  const csv = pythonString(path ? `${path}/*.csv` : '*.csv');
  return [
    'import ember',
    '',
    'ws = ember.Workspace.from_config()',
    `ds = ember.Datastore.get(ws, ${pythonString(name)})`,
    `files = ember.Dataset.File.from_files(${folder})`,
    `table = ember.Dataset.Tabular.from_delimited_files(ds.path(${csv}))`,
  ].join('\n');
}

function FactRow({ label, value }: { label: string; value: string }) {
  return (
    <>
      <dt>{label}</dt>
      <dd className="mono">{value}</dd>
    </>
  );
}

function Listing({ name, path }: { name: string; path: string }) {
  const listing = useDatastoreFiles(name, path, LISTING_LIMIT);
  const crumbs = breadcrumbs(path, name);

  const trail = (
    <nav className="data-path" aria-label="Folder" data-testid="datastore-path">
      {crumbs.map((crumb, index) => {
        const last = index === crumbs.length - 1;
        return (
          <span key={crumb.path} className="data-path-part">
            {index > 0 && <span className="data-path-sep">/</span>}
            {last ? (
              <span aria-current="page">{crumb.name}</span>
            ) : (
              <Link to={datastoreFolderUrl(name, crumb.path)}>{crumb.name}</Link>
            )}
          </span>
        );
      })}
    </nav>
  );

  let body;
  if (listing.isPending) body = <Spinner label="Listing the folder…" />;
  else if (listing.isError)
    body = (
      <div className="card-body">
        <ErrorBanner error={listing.error} title="Could not list this folder" onRetry={() => void listing.refetch()} />
      </div>
    );
  else if (listing.data.entries.length === 0)
    body = (
      <EmptyState
        title={path ? 'This folder is empty' : 'This datastore is empty'}
        actions={
          <Snippet
            label="Upload files into it from Python"
            code={`ds = ember.Datastore.get(ws, ${pythonString(name)})\nds.upload("./data"${path ? `, target_path=${pythonString(path)}` : ''})`}
          />
        }
      >
        Files written here by runs or uploads show up as they arrive.
      </EmptyState>
    );
  else {
    const { entries } = listing.data;
    const folders = entries.filter((entry) => entry.kind === 'folder').length;
    const files = entries.length - folders;
    body = (
      <>
        <div className="table-wrap">
          <table className="data" data-testid="datastore-listing">
            <caption className="visually-hidden">
              {plural(folders, 'folder')} and {plural(files, 'file')} in {path || 'the root'}
            </caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col" className="num">
                  Size
                </th>
                <th scope="col">Modified</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((entry) => (
                <tr key={entry.path} data-testid="datastore-entry" data-kind={entry.kind} data-path={entry.path}>
                  <td className="data-entry-name">
                    {entry.kind === 'folder' ? (
                      <Link to={datastoreFolderUrl(name, entry.path)} className="data-entry folder">
                        <FolderIcon />
                        {baseName(entry.path)}/
                      </Link>
                    ) : (
                      <span className="data-entry file" title={entry.path}>
                        <FileIcon />
                        {baseName(entry.path)}
                      </span>
                    )}
                  </td>
                  <td className="num">
                    {entry.size === null || entry.size === undefined ? (
                      <span className="muted">—</span>
                    ) : (
                      formatBytes(entry.size)
                    )}
                  </td>
                  <td>
                    <RelativeTime value={epochSecondsToIso(entry.modified_time)} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <p className="placeholder-note" data-testid="datastore-summary">
          {plural(folders, 'folder')}, {plural(files, 'file')}
          {listing.data.truncated && (
            <span className="data-truncated" role="note" data-testid="datastore-truncated">
              {' '}
              · Only the first {LISTING_LIMIT.toLocaleString()} entries are shown; this folder holds more. Narrow it
              down by opening a subfolder, or list it with <code>ds.list_files(prefix)</code>.
            </span>
          )}
        </p>
      </>
    );
  }

  return (
    <div className="stack">
      <section className="card" aria-label="Files">
        <header>{trail}</header>
        {body}
      </section>
      {listing.data && listing.data.entries.length > 0 && (
        <DataCard title="Use these files">
          <Snippet code={filesSnippet(name, path)} />
        </DataCard>
      )}
    </div>
  );
}

export default function DatastoreBrowse() {
  const { name = '' } = useParams();
  const [params] = useSearchParams();
  const path = normalizePath(params.get('path'));
  const store = useDatastore(name);
  useTitle(path ? `${baseName(path)} · ${name}` : name);

  return (
    <div className="page">
      <PageHeader
        title={name}
        subtitle={store.data ? <span className="mono">{store.data.url}</span> : undefined}
        breadcrumbs={<Link to="/datastores">Datastores</Link>}
        actions={store.data ? <DatastoreKindBadge kind={store.data.kind} isDefault={store.data.is_default} /> : undefined}
      />
      {store.isError ? (
        <ErrorBanner error={store.error} title="Could not load the datastore" onRetry={() => void store.refetch()} />
      ) : (
        <div className="data-browse">
          <Listing name={name} path={path} />
          <DataCard title="Details">{store.data ? <Facts store={store.data} /> : <Spinner />}</DataCard>
        </div>
      )}
    </div>
  );
}
