/**
 * The first rows of a tabular dataset version, read by the server through the definition (parse
 * options and transforms applied), with each column's type.
 */
import { Link } from 'react-router-dom';

import { useDatasetPreview } from '../../api/queries';
import type { DatasetVersionInfo } from '../../api/types';
import { EmptyState } from '../../components/EmptyState';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Spinner } from '../../components/Spinner';
import { datasetUrl, formatCell, isNumericType } from '../../lib/data';
import { plural } from '../../lib/format';

export const PREVIEW_ROWS = 100;

/** What the Preview and Profile tabs say for a file dataset. */
export function FileDatasetNote({ dataset, title }: { dataset: DatasetVersionInfo; title: string }) {
  return (
    <section className="card">
      <EmptyState title={title}>
        It is a set of files, read as they are. See them under{' '}
        <Link to={datasetUrl(dataset.name, { version: dataset.version, tab: 'files' })}>Files</Link>.
      </EmptyState>
    </section>
  );
}

function Preview({ dataset }: { dataset: DatasetVersionInfo }) {
  const preview = useDatasetPreview(dataset.id, PREVIEW_ROWS);
  if (preview.isPending) return <Spinner label="Reading the first rows…" />;
  if (preview.isError) {
    return <ErrorBanner error={preview.error} title="Could not read the dataset" onRetry={() => void preview.refetch()} />;
  }
  const { columns, rows } = preview.data;
  return (
    <section className="card" aria-label="Preview">
      <header>
        <h2>
          First {plural(rows.length, 'row')}
          <span className="muted data-heading-note">
            {' '}
            · {plural(columns.length, 'column')}
          </span>
        </h2>
      </header>
      {rows.length === 0 ? (
        <p className="placeholder-note">The dataset has no rows (its files are empty, or its transforms keep none).</p>
      ) : (
        <div className="table-wrap data-preview-scroll">
          <table className="data data-preview" data-testid="dataset-preview">
            <caption className="visually-hidden">The first rows of {dataset.name} v{dataset.version}</caption>
            <thead>
              <tr>
                <th scope="col" className="num data-rownum">
                  #
                </th>
                {columns.map(([column, type]) => (
                  <th key={column} scope="col" data-column={column} className={isNumericType(type) ? 'num' : undefined}>
                    <span className="data-col-name">{column}</span>
                    <span className="data-col-type">{type}</span>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((row, index) => (
                <tr key={index} data-testid="preview-row">
                  <td className="num muted data-rownum">{index + 1}</td>
                  {columns.map(([column], col) => {
                    const value: unknown = row[col];
                    const missing = value === null || value === undefined;
                    const numeric = typeof value === 'number';
                    return (
                      <td key={column} className={`${numeric ? 'num mono' : 'mono'}${missing ? ' muted' : ''}`}>
                        {formatCell(value)}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {rows.length >= PREVIEW_ROWS && (
        <p className="placeholder-note">
          Only the first {PREVIEW_ROWS} rows are shown. <code>ds.to_pandas_dataframe()</code> reads them all.
        </p>
      )}
    </section>
  );
}

export function DatasetPreviewTab({ dataset }: { dataset: DatasetVersionInfo }) {
  if (dataset.kind !== 'tabular') return <FileDatasetNote dataset={dataset} title="A file dataset has no rows to preview" />;
  return <Preview dataset={dataset} />;
}
