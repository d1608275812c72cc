import { useVirtualizer } from '@tanstack/react-virtual';
import { type ReactNode, useEffect, useRef } from 'react';
import { Link } from 'react-router-dom';

import type { RunDetails } from '../api/client';
import { formatDuration, formatNumber, runDuration } from '../lib/format';
import { columnLabel, type Order, parseColumnId, RUN_COLUMN, sortDirection } from '../lib/runsTable';
import { RelativeTime } from './RelativeTime';
import { StatusBadge } from './StatusBadge';

const ROW_HEIGHT = 40;
/** Start loading the next page this many rows before the end of what is loaded. */
const PREFETCH_ROWS = 30;
/** "Select all" picks at most this many of the loaded runs (a comparison of more is not readable). */
export const MAX_SELECT_ALL = 100;

const WIDTHS: Record<string, number> = {
  select: 44,
  [RUN_COLUMN]: 220,
  'attributes.status': 132,
  'attributes.created_time': 110,
  'attributes.duration': 100,
  'attributes.user': 110,
};
const OTHER_WIDTH = 130;

function width(id: string): number {
  return WIDTHS[id] ?? OTHER_WIDTH;
}

function isNumeric(id: string): boolean {
  return id === 'attributes.duration' || parseColumnId(id)?.kind === 'metrics';
}

function Cell({ run, column }: { run: RunDetails; column: string }): ReactNode {
  const { info } = run;
  const ref = parseColumnId(column);
  if (!ref) return null;
  if (ref.kind === 'metrics') {
    const value = run.metrics?.[ref.key];
    return value === undefined ? <span className="muted">—</span> : <span title={String(value)}>{formatNumber(value)}</span>;
  }
  if (ref.kind === 'params' || ref.kind === 'tags') {
    const value = (ref.kind === 'params' ? run.params : run.tags)?.[ref.key];
    return value === undefined ? <span className="muted">—</span> : <span title={value}>{value}</span>;
  }
  switch (ref.key) {
    case 'status':
      return <StatusBadge status={info.status} />;
    case 'created_time':
      return <RelativeTime value={info.created_time} />;
    case 'start_time':
      return <RelativeTime value={info.start_time} />;
    case 'end_time':
      return <RelativeTime value={info.end_time} />;
    case 'duration':
      return formatDuration(runDuration(info));
    case 'user':
      return info.user ? <span title={info.user}>{info.user}</span> : <span className="muted">—</span>;
    case 'run_type':
      return info.run_type;
    case 'run_id':
      return <span className="mono">{info.id}</span>;
    default:
      return <span className="muted">—</span>;
  }
}

function SortHeader({ column, order, onSort }: { column: string; order: Order | null; onSort: (column: string) => void }) {
  const direction = sortDirection(order, column);
  const label = columnLabel(column);
  const kind = parseColumnId(column)?.kind;
  return (
    <th
      scope="col"
      className={isNumeric(column) ? 'num' : undefined}
      aria-sort={direction === 'ASC' ? 'ascending' : direction === 'DESC' ? 'descending' : 'none'}
      data-column={column}
    >
      <button
        type="button"
        className="runs-sort"
        title={`${column}: click to sort`}
        onClick={() => onSort(column)}
      >
        <span className="runs-sort-label">
          {kind && kind !== 'attributes' && <span className={`runs-kind kind-${kind}`}>{kind.slice(0, -1)}</span>}
          <span className="truncate">{label}</span>
        </span>
        <span className="runs-sort-arrow" aria-hidden="true">
          {direction === 'ASC' ? '▲' : direction === 'DESC' ? '▼' : ''}
        </span>
      </button>
    </th>
  );
}

/**
 * The runs table: a real `<table>` whose body renders only the rows in view (plus a margin) between two
 * spacer rows, inside its own scroll box with a sticky header. Scrolling near the end asks for the next page.
 */
export function RunsVirtualTable({
  runs,
  columns,
  order,
  onSort,
  selected,
  onSelect,
  onSelectAll,
  hasNextPage,
  isFetchingNextPage,
  fetchNextPage,
  nextPageError,
  ready,
  stale,
  caption,
}: {
  runs: RunDetails[];
  columns: string[];
  order: Order | null;
  onSort: (column: string) => void;
  selected: Set<string>;
  onSelect: (runId: string, checked: boolean) => void;
  onSelectAll: (checked: boolean) => void;
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => void;
  nextPageError: string | null;
  ready: boolean;
  stale: boolean;
  caption: string;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const footer = hasNextPage || nextPageError !== null;
  const virtualizer = useVirtualizer({
    count: runs.length + (footer ? 1 : 0),
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    getItemKey: (index) => runs[index]?.info.id ?? 'footer',
  });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items.at(-1)?.index ?? -1;

  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && nextPageError === null && !stale && lastIndex >= runs.length - PREFETCH_ROWS) {
      fetchNextPage();
    }
  }, [lastIndex, runs.length, hasNextPage, isFetchingNextPage, nextPageError, stale, fetchNextPage]);

  const shown = [RUN_COLUMN, ...columns];
  const tableWidth = width('select') + shown.reduce((sum, id) => sum + width(id), 0);
  const paddingTop = items[0]?.start ?? 0;
  const paddingBottom = virtualizer.getTotalSize() - (items.at(-1)?.end ?? 0);
  const selectedLoaded = runs.reduce((n, r) => n + (selected.has(r.info.id) ? 1 : 0), 0);
  const span = shown.length + 1;

  return (
    <div className={`runs-scroll${stale ? ' stale' : ''}`} ref={scroller} tabIndex={-1}>
      <table
        className="data runs-table"
        data-testid="runs-table"
        data-ready={ready ? 'true' : undefined}
        data-loaded={runs.length}
        aria-rowcount={hasNextPage ? -1 : runs.length + 1}
        aria-busy={stale || isFetchingNextPage}
        style={{ width: tableWidth }}
      >
        <caption className="visually-hidden">{caption}</caption>
        <colgroup>
          <col style={{ width: width('select') }} />
          {shown.map((id) => (
            <col key={id} style={{ width: width(id) }} />
          ))}
        </colgroup>
        <thead>
          <tr aria-rowindex={1}>
            <th scope="col" className="runs-select">
              <input
                type="checkbox"
                aria-label={`Select the loaded runs (at most ${MAX_SELECT_ALL})`}
                checked={selectedLoaded > 0 && selectedLoaded >= Math.min(runs.length, MAX_SELECT_ALL)}
                ref={(element) => {
                  if (element) element.indeterminate = selectedLoaded > 0 && selectedLoaded < Math.min(runs.length, MAX_SELECT_ALL);
                }}
                disabled={runs.length === 0}
                onChange={(event) => onSelectAll(event.target.checked)}
              />
            </th>
            {shown.map((id) => (
              <SortHeader key={id} column={id} order={order} onSort={onSort} />
            ))}
          </tr>
        </thead>
        <tbody>
          {paddingTop > 0 && (
            <tr className="runs-spacer" aria-hidden="true">
              <td colSpan={span} style={{ height: paddingTop }} />
            </tr>
          )}
          {items.map((item) => {
            const run = runs[item.index];
            if (!run) {
              return (
                <tr key="footer" className="runs-footer-row" data-index={item.index} ref={virtualizer.measureElement}>
                  <td colSpan={span}>
                    {nextPageError !== null ? (
                      <span className="runs-load-error" role="alert">
                        Could not load more runs: {nextPageError}{' '}
                        <button type="button" className="button small" onClick={fetchNextPage}>
                          Retry
                        </button>
                      </span>
                    ) : (
                      <span className="muted" role="status">
                        Loading more runs…
                      </span>
                    )}
                  </td>
                </tr>
              );
            }
            const { info } = run;
            const isSelected = selected.has(info.id);
            const name = info.display_name || info.id.slice(0, 8);
            return (
              <tr
                key={info.id}
                data-testid="runs-row"
                data-run-id={info.id}
                data-index={item.index}
                aria-rowindex={item.index + 2}
                aria-selected={isSelected}
                className={isSelected ? 'selected' : undefined}
                ref={virtualizer.measureElement}
              >
                <td className="runs-select">
                  <input
                    type="checkbox"
                    aria-label={`Select ${name}`}
                    checked={isSelected}
                    onChange={(event) => onSelect(info.id, event.target.checked)}
                  />
                </td>
                <td title={info.display_name ? `${info.display_name} (${info.id})` : info.id}>
                  <Link to={`/runs/${encodeURIComponent(info.id)}`} className={info.display_name ? undefined : 'mono'}>
                    {name}
                  </Link>
                </td>
                {columns.map((column) => (
                  <td key={column} className={isNumeric(column) ? 'num' : undefined}>
                    <Cell run={run} column={column} />
                  </td>
                ))}
              </tr>
            );
          })}
          {paddingBottom > 0 && (
            <tr className="runs-spacer" aria-hidden="true">
              <td colSpan={span} style={{ height: paddingBottom }} />
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
