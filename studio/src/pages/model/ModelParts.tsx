/** Small pieces the model pages share: alias badges, the format badge, clickable tag chips. */
import { tagTerm } from '../../lib/models';

/** A version's aliases as badges (`production`), or a dash. */
export function AliasBadges({ aliases, empty = '—' }: { aliases: readonly string[] | undefined; empty?: string }) {
  const sorted = [...(aliases ?? [])].sort();
  if (sorted.length === 0) return <span className="muted">{empty}</span>;
  return (
    <span className="model-aliases" aria-label="Aliases">
      {sorted.map((alias) => (
        <span key={alias} className="badge model-alias" data-testid="model-alias" data-alias={alias}>
          @{alias}
        </span>
      ))}
    </span>
  );
}

/** How the model's files are laid out: an MLflow model (an MLmodel file) or plain files. */
export function ModelFormatBadge({ format }: { format: string | undefined }) {
  if (format === 'mlflow') {
    return (
      <span className="badge model-format kind-mlflow" data-format="mlflow" title="An MLflow model: an MLmodel file with flavors">
        MLflow
      </span>
    );
  }
  return (
    <span className="badge model-format" data-format={format ?? 'files'}>
      Files
    </span>
  );
}

/**
 * Tags as `key = value` chips; with `onPick`, each is a button that adds (or removes) the tag as a
 * search term, and the chips whose term is in `active` are highlighted.
 */
export function ModelTagChips({
  tags,
  active = [],
  onPick,
}: {
  tags: Record<string, string> | undefined;
  active?: readonly string[];
  onPick?: (term: string) => void;
}) {
  const entries = Object.entries(tags ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return <span className="muted">—</span>;
  return (
    <ul className="data-tags" aria-label="Tags">
      {entries.map(([key, value]) => {
        const term = tagTerm(key, value);
        const label = (
          <>
            <span className="data-tag-key">{key}</span>
            {value && <span className="data-tag-value">{value}</span>}
          </>
        );
        return (
          <li key={key} className="model-tag-item">
            {onPick && term ? (
              <button
                type="button"
                className={`data-tag model-tag-button${active.includes(term) ? ' active' : ''}`}
                title={active.includes(term) ? `Stop filtering by ${term}` : `Show only models tagged ${term}`}
                aria-pressed={active.includes(term)}
                onClick={() => onPick(term)}
                data-testid="model-tag"
                data-term={term}
              >
                {label}
              </button>
            ) : (
              <span className="data-tag" title={value ? `${key} = ${value}` : key} data-testid="model-tag">
                {label}
              </span>
            )}
          </li>
        );
      })}
    </ul>
  );
}
