import { formatDateTime, formatRelative } from '../lib/format';

/** A time as "5 min ago", with the exact local time on hover and for assistive tech. */
export function RelativeTime({ value }: { value: string | null | undefined }) {
  if (!value) return <span className="muted">—</span>;
  return (
    <time dateTime={value} title={formatDateTime(value)}>
      {formatRelative(value)}
    </time>
  );
}
