/**
 * The files a dataset version was registered with: datastore, path, size, modification time and
 * etag, as they were then (what the fingerprint covers). Each links to its folder in the datastore.
 */
import { Link } from 'react-router-dom';

import { useDatasetFiles } from '../../api/queries';
import type { DatasetVersionInfo } from '../../api/types';
import { ErrorBanner } from '../../components/ErrorBanner';
import { RelativeTime } from '../../components/RelativeTime';
import { Spinner } from '../../components/Spinner';
import { datastoreFolderUrl, epochSecondsToIso, parentPath } from '../../lib/data';
import { plural } from '../../lib/format';
import { formatBytes } from '../run/RunFiles';

/** Rows drawn at most; a version may hold many thousands of files. */
export const FILES_SHOWN = 1000;

export function DatasetFiles({ dataset }: { dataset: DatasetVersionInfo }) {
  const files = useDatasetFiles(dataset.id);
  if (files.isPending) return <Spinner label="Loading the files…" />;
  if (files.isError) {
    return <ErrorBanner error={files.error} title="Could not load the files" onRetry={() => void files.refetch()} />;
  }
  const shown = files.data.slice(0, FILES_SHOWN);
  const stores = new Set(files.data.map((file) => file.datastore));
  const etags = files.data.some((file) => file.etag); // local folders have none
  return (
    <section className="card" aria-label="Files">
      <header>
        <h2>
          {plural(files.data.length, 'file')}
          <span className="muted data-heading-note"> · {formatBytes(dataset.total_size)}</span>
        </h2>
      </header>
      <div className="table-wrap">
        <table className="data" data-testid="dataset-files">
          <caption className="visually-hidden">The files of {dataset.name} v{dataset.version}</caption>
          <thead>
            <tr>
              {stores.size > 1 && <th scope="col">Datastore</th>}
              <th scope="col">Path</th>
              <th scope="col" className="num">
                Size
              </th>
              <th scope="col">Modified</th>
              {etags && <th scope="col">Etag</th>}
            </tr>
          </thead>
          <tbody>
            {shown.map((file) => (
              <tr key={`${file.datastore}:${file.path}`} data-testid="dataset-file" data-path={file.path}>
                {stores.size > 1 && <td>{file.datastore}</td>}
                <td className="mono">
                  <Link to={datastoreFolderUrl(file.datastore, parentPath(file.path))} title={`Open its folder in ${file.datastore}`}>
                    {file.path}
                  </Link>
                </td>
                <td className="num">{formatBytes(file.size)}</td>
                <td>
                  <RelativeTime value={epochSecondsToIso(file.modified_time)} />
                </td>
                {etags && (
                  <td className="mono muted truncate data-etag" title={file.etag ?? undefined}>
                    {file.etag || '—'}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="placeholder-note">
        {files.data.length > FILES_SHOWN && `Showing the first ${FILES_SHOWN.toLocaleString()}. `}
        {stores.size === 1 && (
          <>
            In datastore <Link to={datastoreFolderUrl([...stores][0] ?? '', '')}>{[...stores][0]}</Link>.{' '}
          </>
        )}
        As registered: later changes to these files make reads of this version fail its fingerprint check.
      </p>
    </section>
  );
}
