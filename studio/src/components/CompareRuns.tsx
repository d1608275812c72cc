/** The runs of the Compare page: their colours and the chips in the page's header. */
import { Link } from 'react-router-dom';

/**
 * One colour per compared run, in the order of the URL, the same in the chips, the table's columns
 * and every chart. Mid-luminance hues that read on both the light and the dark surface.
 */
export const RUN_COLORS = [
  '#3b82f6',
  '#f97316',
  '#16a34a',
  '#e11d48',
  '#9333ea',
  '#0891b2',
  '#ca8a04',
  '#db2777',
  '#4f46e5',
  '#65a30d',
  '#0d9488',
  '#c2410c',
  '#7c3aed',
  '#2563eb',
  '#be123c',
  '#15803d',
  '#a21caf',
  '#0369a1',
  '#b45309',
  '#64748b',
] as const;

export function runColor(index: number): string {
  return RUN_COLORS[index % RUN_COLORS.length] ?? '#64748b';
}

export interface CompareRun {
  id: string;
  /** The display name once loaded, else the id. */
  label: string;
  color: string;
  state: 'loading' | 'loaded' | 'missing' | 'error';
}

/** A coloured chip per run, linked to the run, with a button that drops it from the comparison. */
export function CompareRunChips({ runs, onRemove }: { runs: CompareRun[]; onRemove: (id: string) => void }) {
  return (
    <ul className="compare-chips" aria-label="Compared runs" data-testid="compare-chips">
      {runs.map((run) => (
        <li
          key={run.id}
          className={`compare-chip state-${run.state}`}
          data-testid="compare-chip"
          data-run-id={run.id}
          style={{ ['--run-color' as string]: run.color }}
        >
          <span className="swatch" aria-hidden="true" />
          {run.state === 'missing' ? (
            <span className="mono" title="No run has this id">
              {run.label}
            </span>
          ) : (
            <Link to={`/runs/${encodeURIComponent(run.id)}`} title={run.id}>
              {run.label}
            </Link>
          )}
          <button
            type="button"
            className="chip-remove"
            onClick={() => onRemove(run.id)}
            aria-label={`Remove ${run.label} from the comparison`}
            title="Remove from the comparison"
          >
            ×
          </button>
        </li>
      ))}
    </ul>
  );
}
