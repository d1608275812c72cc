import { useEffect, useId, useLayoutEffect, useMemo, useRef, useState } from 'react';

import { applyCompletion, completions, type ExperimentKeyLists, tokenAt } from '../lib/runsTable';
import { RunsPopover } from './RunsPopover';

const EXAMPLES = [
  { filter: 'metrics.accuracy > 0.9', says: 'latest accuracy above 0.9' },
  { filter: "params.model = 'svm' AND metrics.loss < 0.1", says: 'conditions joined with AND (there is no OR)' },
  { filter: "attributes.status IN ('Failed', 'Canceled')", says: 'runs that failed or were canceled' },
  { filter: "tags.team LIKE 'vision%'", says: 'LIKE and ILIKE with % and _ wildcards' },
  { filter: "attributes.created_time > '2024-06-01'", says: 'times as ISO-8601 (UTC) or epoch seconds' },
  { filter: 'params.`learning rate` <= 0.01', says: 'keys with spaces in backticks; params compare as numbers' },
];

/**
 * The runs table's filter: the search grammar of `search_runs`, applied on Enter. The server's message for a
 * filter it cannot read shows under the box. Typing `metrics.`, `params.`, `tags.` or `attributes.` offers keys.
 */
export function RunsFilterBox({
  applied,
  onApply,
  error,
  keys,
}: {
  applied: string;
  onApply: (filter: string) => void;
  error: string | null;
  keys: ExperimentKeyLists | undefined;
}) {
  const [draft, setDraft] = useState(applied);
  const [caret, setCaret] = useState(applied.length);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const input = useRef<HTMLInputElement>(null);
  // Where the caret goes once an accepted completion is rendered (before the next key press lands).
  const pendingCaret = useRef<number | null>(null);
  const listId = useId();
  const errorId = useId();

  // A new applied filter (a link, the back button, Clear) replaces what is typed.
  useEffect(() => {
    setDraft(applied);
  }, [applied]);

  const options = useMemo(() => (open ? completions(tokenAt(draft, caret).token, keys) : []), [open, draft, caret, keys]);
  const showList = options.length > 0;

  const accept = (completion: string) => {
    const next = applyCompletion(draft, caret, completion);
    setDraft(next.text);
    setCaret(next.caret);
    setActive(-1);
    pendingCaret.current = next.caret;
  };

  useLayoutEffect(() => {
    if (pendingCaret.current === null) return;
    input.current?.setSelectionRange(pendingCaret.current, pendingCaret.current);
    pendingCaret.current = null;
  }, [draft]);

  const apply = (text: string) => {
    setOpen(false);
    onApply(text.trim());
  };

  return (
    <div className="runs-filter">
      <div className="runs-filter-row">
        <label className="visually-hidden" htmlFor="runs-filter-input">
          Filter runs
        </label>
        <div className="runs-filter-field">
          <input
            ref={input}
            id="runs-filter-input"
            className="search mono"
            type="text"
            role="combobox"
            aria-autocomplete="list"
            aria-expanded={showList}
            aria-controls={showList ? listId : undefined}
            aria-activedescendant={showList && active >= 0 ? `${listId}-${active}` : undefined}
            aria-describedby={error ? errorId : undefined}
            aria-invalid={error ? true : undefined}
            placeholder="Filter: metrics.accuracy > 0.9 AND params.model = 'svm'   (Enter to apply)"
            spellCheck={false}
            autoComplete="off"
            value={draft}
            data-testid="runs-filter"
            onChange={(event) => {
              setDraft(event.target.value);
              setCaret(event.target.selectionStart ?? event.target.value.length);
              setOpen(true);
              setActive(-1);
            }}
            onSelect={(event) => setCaret(event.currentTarget.selectionStart ?? 0)}
            onBlur={() => setOpen(false)}
            onKeyDown={(event) => {
              if (showList && event.key === 'ArrowDown') {
                event.preventDefault();
                setActive((i) => (i + 1) % options.length);
              } else if (showList && event.key === 'ArrowUp') {
                event.preventDefault();
                setActive((i) => (i <= 0 ? options.length - 1 : i - 1));
              } else if (showList && (event.key === 'Tab' || event.key === 'Enter') && active >= 0) {
                event.preventDefault();
                const choice = options[active];
                if (choice) accept(choice);
              } else if (showList && event.key === 'Escape') {
                event.preventDefault();
                setOpen(false);
              } else if (event.key === 'Enter') {
                event.preventDefault();
                apply(draft);
              }
            }}
          />
          {showList && (
            <ul id={listId} role="listbox" className="runs-completions" aria-label="Keys">
              {options.map((option, index) => (
                <li
                  key={option}
                  id={`${listId}-${index}`}
                  role="option"
                  aria-selected={index === active}
                  className={index === active ? 'active' : undefined}
                  // Keep the focus in the box: choosing with the mouse must not blur it first.
                  onMouseDown={(event) => {
                    event.preventDefault();
                    accept(option);
                  }}
                >
                  {option}
                </li>
              ))}
            </ul>
          )}
        </div>
        <button type="button" className="button" onClick={() => apply(draft)}>
          Apply
        </button>
        <button
          type="button"
          className="button"
          disabled={!applied && !draft}
          onClick={() => {
            setDraft('');
            apply('');
          }}
        >
          Clear
        </button>
        <RunsPopover label="?" title="Filter help" panelLabel="Filter help" className="button icon runs-help-button" align="end">
          {(close) => (
            <div className="runs-help">
              <p>
                <code>entity.key operator value</code>, joined with <code>AND</code>. Entities: <code>metrics</code>{' '}
                (latest value), <code>params</code>, <code>tags</code>, <code>attributes</code> (status, display_name,
                user, created_time, duration, …). Operators: <code>= != &lt; &lt;= &gt; &gt;= LIKE ILIKE IN</code>{' '}
                <code>NOT IN</code>.
              </p>
              <ul>
                {EXAMPLES.map((example) => (
                  <li key={example.filter}>
                    <button
                      type="button"
                      className="runs-example"
                      onClick={() => {
                        setDraft(example.filter);
                        close();
                        input.current?.focus();
                      }}
                    >
                      <code>{example.filter}</code>
                    </button>
                    <span className="muted">{example.says}</span>
                  </li>
                ))}
              </ul>
              <p className="muted">
                Press Enter to apply. Typing <code>metrics.</code> offers the experiment’s keys (↑ ↓, then Tab).
              </p>
            </div>
          )}
        </RunsPopover>
      </div>
      {error && (
        <div className="runs-filter-error" role="alert" id={errorId} data-testid="runs-filter-error">
          <strong>The server cannot use this filter</strong>
          <pre>{error}</pre>
        </div>
      )}
    </div>
  );
}
