/** The Compare page's diff table: attributes, params, metrics and tags down, runs across. */
import { Fragment } from 'react';
import { Link } from 'react-router-dom';

import type { RunDetails, RunStatus } from '../api/client';
import { visibleRows, type DiffRow, type RowKind } from '../lib/diff';
import { StatusBadge } from './StatusBadge';

const GROUPS: { kind: RowKind; title: string }[] = [
  { kind: 'attribute', title: 'Attributes' },
  { kind: 'param', title: 'Params' },
  { kind: 'metric', title: 'Metrics' },
  { kind: 'tag', title: 'Tags' },
];

function Cell({ row, index }: { row: DiffRow; index: number }) {
  const value = row.values[index] ?? null;
  const text = row.display[index] ?? '—';
  const best = row.best.includes(index);
  const classes = [row.numeric ? 'num' : '', value === null ? 'missing' : '', best ? 'best' : ''].filter(Boolean);
  if (row.key === 'attributes.status' && typeof value === 'string') {
    return (
      <td>
        <StatusBadge status={value as RunStatus} />
      </td>
    );
  }
  return (
    <td className={classes.join(' ') || undefined} title={value === null ? 'not set on this run' : String(value)}>
      {best && (
        <span className="best-mark" title={`best (${row.direction === 'min' ? 'lowest' : 'highest'})`}>
          ★<span className="visually-hidden"> best</span>
        </span>
      )}
      {text}
    </td>
  );
}

export function CompareDiffTable({
  runs,
  colors,
  rows,
  onlyDifferences,
}: {
  runs: RunDetails[];
  colors: string[];
  rows: DiffRow[];
  onlyDifferences: boolean;
}) {
  const shown = visibleRows(rows, onlyDifferences);
  return (
    <div className="table-wrap compare-table-wrap">
      <table className="data compare-table" data-testid="diff-table">
        <caption className="visually-hidden">
          Attributes, params, metrics and tags of the compared runs{onlyDifferences ? ', only those that differ' : ''}
        </caption>
        <thead>
          <tr>
            <th scope="col" className="row-name">
              Name
            </th>
            {runs.map((run, index) => (
              <th
                scope="col"
                key={run.info.id}
                className="run-col"
                style={{ ['--run-color' as string]: colors[index] }}
              >
                <span className="swatch" aria-hidden="true" />
                <Link to={`/runs/${encodeURIComponent(run.info.id)}`} title={run.info.id}>
                  {run.info.display_name || run.info.id}
                </Link>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {GROUPS.map(({ kind, title }) => {
            const groupRows = shown.filter((row) => row.kind === kind);
            if (groupRows.length === 0) return null;
            return (
              <Fragment key={kind}>
                <tr className="group-row">
                  <th scope="colgroup" colSpan={runs.length + 1}>
                    {title}
                  </th>
                </tr>
                {groupRows.map((row) => (
                  <tr
                    key={row.key}
                    className={row.differs ? 'differs' : undefined}
                    data-testid="diff-row"
                    data-key={row.key}
                    data-differs={row.differs ? 'true' : 'false'}
                  >
                    <th scope="row" className="row-name" title={row.name}>
                      {row.name}
                      {row.differs && <span className="visually-hidden"> (differs)</span>}
                    </th>
                    {runs.map((run, index) => (
                      <Cell key={run.info.id} row={row} index={index} />
                    ))}
                  </tr>
                ))}
              </Fragment>
            );
          })}
          {shown.length === 0 && (
            <tr>
              <td colSpan={runs.length + 1} className="muted compare-no-diff">
                These runs do not differ in any attribute, param, metric or tag.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
