/**
 * Small pieces the data pages share (datastores, datasets, the run overview's datasets): badges for
 * kinds, tag chips, a titled card and a code snippet.
 */
import type { ReactNode } from 'react';

import { datastoreKindLabel } from '../../lib/data';

/** A card with a title and optional actions, like the run overview's. */
export function DataCard({
  title,
  children,
  actions,
  testId,
  flush = false,
}: {
  title: ReactNode;
  children: ReactNode;
  actions?: ReactNode;
  testId?: string;
  /** The body is a table that runs to the card's edges. */
  flush?: boolean;
}) {
  return (
    <section className="card" aria-label={typeof title === 'string' ? title : undefined} data-testid={testId}>
      <header>
        <h2>{title}</h2>
        {actions}
      </header>
      {flush ? children : <div className="card-body">{children}</div>}
    </section>
  );
}

export function DatastoreKindBadge({ kind, isDefault = false }: { kind: string; isDefault?: boolean }) {
  return (
    <span className="data-badges">
      <span className={`badge data-kind kind-${kind}`} data-kind={kind}>
        {datastoreKindLabel(kind)}
      </span>
      {isDefault && <span className="badge tone-active">default</span>}
    </span>
  );
}

export function DatasetKindBadge({ kind }: { kind: string }) {
  return (
    <span className={`badge data-kind kind-${kind}`} data-kind={kind}>
      {kind === 'tabular' ? 'Tabular' : kind === 'file' ? 'File' : kind}
    </span>
  );
}

const STATE_TONES: Record<string, string> = { active: 'tone-ok', deprecated: 'tone-warn', archived: '' };

/** A dataset version's lifecycle state: active, deprecated (still readable) or archived (refused). */
export function DatasetStateBadge({ state }: { state: string | undefined }) {
  const shown = state ?? 'active';
  return (
    <span className={`badge ${STATE_TONES[shown] ?? ''}`} data-testid="dataset-state" data-state={shown}>
      {shown}
    </span>
  );
}

/** Tags as `key = value` chips, or a dash. */
export function TagList({ tags }: { tags: Record<string, string> | undefined }) {
  const entries = Object.entries(tags ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return <span className="muted">—</span>;
  return (
    <ul className="data-tags" aria-label="Tags">
      {entries.map(([key, value]) => (
        <li key={key} className="data-tag" title={value ? `${key} = ${value}` : key}>
          <span className="data-tag-key">{key}</span>
          {value && <span className="data-tag-value">{value}</span>}
        </li>
      ))}
    </ul>
  );
}

/** A labelled code snippet for empty states and "use it" hints. */
export function Snippet({ label, code }: { label?: ReactNode; code: string }) {
  return (
    <>
      {label && <div className="snippet-label">{label}</div>}
      <pre className="snippet">
        <code>{code}</code>
      </pre>
    </>
  );
}
