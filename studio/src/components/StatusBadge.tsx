import type { RunStatus } from '../api/client';

type Tone = 'neutral' | 'active' | 'ok' | 'bad' | 'warn';

/** Every run status, its tone and its label (the server's names, spaced for reading). */
export const RUN_STATUSES: Record<RunStatus, { tone: Tone; label: string; live: boolean }> = {
  NotStarted: { tone: 'neutral', label: 'Not started', live: false },
  Queued: { tone: 'neutral', label: 'Queued', live: true },
  Starting: { tone: 'active', label: 'Starting', live: true },
  Preparing: { tone: 'active', label: 'Preparing', live: true },
  Running: { tone: 'active', label: 'Running', live: true },
  Finalizing: { tone: 'active', label: 'Finalizing', live: true },
  CancelRequested: { tone: 'warn', label: 'Cancel requested', live: true },
  Completed: { tone: 'ok', label: 'Completed', live: false },
  Failed: { tone: 'bad', label: 'Failed', live: false },
  Canceled: { tone: 'neutral', label: 'Canceled', live: false },
  NotResponding: { tone: 'warn', label: 'Not responding', live: true },
};

/** Statuses of runs that have not ended: what "running now" means on the home page. */
export const ACTIVE_STATUSES: RunStatus[] = (Object.keys(RUN_STATUSES) as RunStatus[]).filter(
  (status) => RUN_STATUSES[status].live,
);

/** A run's status as a coloured pill; live statuses pulse. */
export function StatusBadge({ status }: { status: RunStatus }) {
  const known = RUN_STATUSES[status] as (typeof RUN_STATUSES)[RunStatus] | undefined;
  const { tone, label, live } = known ?? { tone: 'neutral' as const, label: String(status), live: false };
  return (
    <span className={`badge tone-${tone}${live ? ' live' : ''}`} data-status={status}>
      <span className="dot" aria-hidden="true" />
      {label}
    </span>
  );
}
