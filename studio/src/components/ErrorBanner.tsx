import { ApiError } from '../api/client';

/** A failed request, shown inline with the server's message and an optional retry. */
export function ErrorBanner({
  error,
  title = 'Something went wrong',
  onRetry,
}: {
  error: unknown;
  title?: string;
  onRetry?: () => void;
}) {
  const message =
    error instanceof ApiError || error instanceof Error ? error.message : typeof error === 'string' ? error : '';
  return (
    <div className="error-banner" role="alert">
      <div>
        <strong>{title}</strong>
        {message && <p>{message}</p>}
      </div>
      {onRetry && (
        <button type="button" className="button" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}
