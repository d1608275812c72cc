import { type KeyboardEvent, useMemo, useState } from 'react';

import { columnLabel, parseColumnId } from '../lib/runsTable';
import { RunsPopover } from './RunsPopover';

const GROUPS = [
  { kind: 'attributes', title: 'Attributes' },
  { kind: 'metrics', title: 'Metrics' },
  { kind: 'params', title: 'Parameters' },
  { kind: 'tags', title: 'Tags' },
] as const;

/** Most checkboxes a group shows at once; typing narrows the rest. */
const SHOWN_PER_GROUP = 200;

/** Move the focus between the chooser's checkboxes (and back to its search box) with the arrow keys. */
function onListKeyDown(event: KeyboardEvent<HTMLDivElement>) {
  if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
  const panel = event.currentTarget;
  const stops = Array.from(panel.querySelectorAll<HTMLInputElement>('input[type=search], input[type=checkbox]'));
  const at = stops.findIndex((element) => element === document.activeElement);
  if (at < 0) return;
  const next = stops[event.key === 'ArrowDown' ? Math.min(stops.length - 1, at + 1) : Math.max(0, at - 1)];
  if (next) {
    event.preventDefault();
    next.focus();
  }
}

/** A "Columns" button with a searchable list of every column (attributes, metrics, params, tags) to show. */
export function RunsColumnChooser({
  available,
  chosen,
  onChange,
  onReset,
}: {
  available: string[];
  chosen: string[];
  onChange: (id: string, shown: boolean) => void;
  onReset: () => void;
}) {
  return (
    <RunsPopover
      label={<>Columns ({chosen.length})</>}
      panelLabel="Choose columns"
      testId="runs-columns-button"
      align="end"
    >
      {() => <ChooserPanel available={available} chosen={chosen} onChange={onChange} onReset={onReset} />}
    </RunsPopover>
  );
}

function ChooserPanel({
  available,
  chosen,
  onChange,
  onReset,
}: {
  available: string[];
  chosen: string[];
  onChange: (id: string, shown: boolean) => void;
  onReset: () => void;
}) {
  const [query, setQuery] = useState('');
  const chosenSet = useMemo(() => new Set(chosen), [chosen]);
  const groups = useMemo(() => {
    const needle = query.trim().toLowerCase();
    return GROUPS.map(({ kind, title }) => {
      const ids = available.filter((id) => {
        if (parseColumnId(id)?.kind !== kind) return false;
        return !needle || id.toLowerCase().includes(needle) || columnLabel(id).toLowerCase().includes(needle);
      });
      return { kind, title, ids };
    }).filter((group) => group.ids.length > 0);
  }, [available, query]);

  return (
    <div className="runs-chooser" onKeyDown={onListKeyDown} data-testid="runs-column-chooser">
      <label className="visually-hidden" htmlFor="runs-column-search">
        Find a column
      </label>
      <input
        id="runs-column-search"
        className="search"
        type="search"
        placeholder="Find a column"
        autoFocus
        value={query}
        onChange={(event) => setQuery(event.target.value)}
      />
      <div className="runs-chooser-list">
        {groups.length === 0 && <p className="muted">No column matches “{query}”.</p>}
        {groups.map((group) => (
          <fieldset key={group.kind}>
            <legend>{group.title}</legend>
            {group.ids.slice(0, SHOWN_PER_GROUP).map((id) => (
              <label key={id} className="runs-chooser-item" title={id}>
                <input
                  type="checkbox"
                  checked={chosenSet.has(id)}
                  onChange={(event) => onChange(id, event.target.checked)}
                />
                <span className="truncate">{columnLabel(id)}</span>
              </label>
            ))}
            {group.ids.length > SHOWN_PER_GROUP && (
              <p className="muted">
                {(group.ids.length - SHOWN_PER_GROUP).toLocaleString()} more: type to narrow the list.
              </p>
            )}
          </fieldset>
        ))}
      </div>
      <div className="runs-chooser-footer">
        <button type="button" className="button" onClick={onReset}>
          Reset to default
        </button>
      </div>
    </div>
  );
}
