/**
 * The run's logs (std_log.txt: the script's output; runner_log.txt; build_log.txt), one sub-tab
 * each (`?name=`). A log is read from its offset in chunks and, while the run has not ended, the
 * view asks for more every second and appends it, keeping the end in view unless the user
 * scrolled up.
 */
import { useQuery } from '@tanstack/react-query';
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';

import { api, unwrap } from '../../api/client';
import type { RunDetails } from '../../api/client';
import { EmptyState } from '../../components/EmptyState';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Spinner } from '../../components/Spinner';

const POLL_MS = 1000;
const LOG_ORDER = ['std_log.txt', 'runner_log.txt', 'build_log.txt'];
/** Characters kept in the view; older text is dropped from the top (download the log for all). */
const MAX_KEPT_CHARS = 5_000_000;

interface Chunk {
  offset: number;
  data: string;
}

function LogView({ runId, name }: { runId: string; name: string }) {
  const [chunks, setChunks] = useState<Chunk[]>([]);
  const [complete, setComplete] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [loaded, setLoaded] = useState(false);
  const [following, setFollowing] = useState(true);
  const boxRef = useRef<HTMLPreElement>(null);
  const followingRef = useRef(true);

  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let offset = 0;
    const poll = async () => {
      try {
        const chunk = await unwrap(
          api.GET('/api/v1/runs/{run_id}/logs/{name}', {
            params: { path: { run_id: runId, name }, query: { offset } },
            signal: controller.signal,
          }),
        );
        setError(null);
        setLoaded(true);
        if (chunk.data) {
          const start = offset;
          setChunks((current) => {
            const next = [...current, { offset: start, data: chunk.data }];
            let kept = next.reduce((sum, c) => sum + c.data.length, 0);
            while (kept > MAX_KEPT_CHARS && next.length > 1) kept -= (next.shift() as Chunk).data.length;
            return next;
          });
        }
        offset = chunk.next_offset;
        if (chunk.complete) {
          setComplete(true);
          return;
        }
        // More was waiting (a long log read in pieces): ask again at once, else in a second.
        timer = setTimeout(() => void poll(), chunk.data ? 0 : POLL_MS);
      } catch (exc) {
        if (controller.signal.aborted) return;
        setError(exc);
        timer = setTimeout(() => void poll(), POLL_MS * 3);
      }
    };
    void poll();
    return () => {
      controller.abort();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [runId, name]);

  // Keep the end in view while following (after the new text is laid out, before it is painted).
  useLayoutEffect(() => {
    const box = boxRef.current;
    if (box && followingRef.current) box.scrollTop = box.scrollHeight;
  }, [chunks]);

  const onScroll = () => {
    const box = boxRef.current;
    if (!box) return;
    const atEnd = box.scrollTop + box.clientHeight >= box.scrollHeight - 24;
    if (atEnd !== followingRef.current) {
      followingRef.current = atEnd;
      setFollowing(atEnd);
    }
  };
  const jumpToEnd = () => {
    const box = boxRef.current;
    followingRef.current = true;
    setFollowing(true);
    if (box) box.scrollTop = box.scrollHeight;
  };

  const empty = loaded && chunks.length === 0;
  return (
    <section className="card run-log" aria-label={`Log ${name}`}>
      <header>
        <h2 className="mono">{name}</h2>
        <span className="toolbar">
          {!complete && loaded && (
            <span className="run-live" data-testid="log-live">
              <span className="run-live-dot" aria-hidden="true" />
              Following live
            </span>
          )}
          {!following && (
            <button type="button" className="button small" onClick={jumpToEnd} data-testid="log-jump-to-end">
              Jump to end
            </button>
          )}
        </span>
      </header>
      {error !== null && <ErrorBanner error={error} title="Could not read the log (retrying)" />}
      {!loaded && error === null ? (
        <Spinner label="Loading the log…" />
      ) : (
        <pre
          ref={boxRef}
          className="run-log-view"
          data-testid="log-view"
          data-complete={complete ? 'true' : 'false'}
          tabIndex={0}
          aria-live="off"
          onScroll={onScroll}
        >
          {empty ? (
            <span className="muted">{complete ? '(empty)' : 'Nothing written yet…'}</span>
          ) : (
            chunks.map((chunk) => <span key={chunk.offset}>{chunk.data}</span>)
          )}
        </pre>
      )}
    </section>
  );
}

export function RunLogs({ run, active }: { run: RunDetails; active: boolean }) {
  const runId = run.info.id;
  const [params] = useSearchParams();
  const names = useQuery({
    queryKey: ['runs', runId, 'logs'],
    queryFn: ({ signal }) => unwrap(api.GET('/api/v1/runs/{run_id}/logs', { params: { path: { run_id: runId } }, signal })),
    refetchInterval: active ? 3000 : false,
  });
  if (names.isPending) return <Spinner label="Loading the logs…" />;
  if (names.isError) return <ErrorBanner error={names.error} title="Could not list the logs" onRetry={() => void names.refetch()} />;
  const sorted = [...names.data].sort((a, b) => {
    const rank = (name: string) => (LOG_ORDER.includes(name) ? LOG_ORDER.indexOf(name) : LOG_ORDER.length);
    return rank(a) - rank(b) || a.localeCompare(b);
  });
  const wanted = params.get('name');
  const name = wanted && sorted.includes(wanted) ? wanted : (sorted[0] ?? null);
  if (name === null) {
    return (
      <section className="card">
        <EmptyState title={active ? 'No logs yet' : 'No logs'}>
          {run.info.run_type === 'interactive'
            ? 'Runs logged from a notebook or script keep no console logs; submitted runs do (ember run submit).'
            : active
              ? 'Logs appear here once the run starts.'
              : 'This run wrote no logs.'}
        </EmptyState>
      </section>
    );
  }
  return (
    <div className="stack">
      <nav className="run-subtabs" aria-label="Logs">
        {sorted.map((logName) => (
          <Link
            key={logName}
            to={`?name=${encodeURIComponent(logName)}`}
            replace
            className={`run-subtab${logName === name ? ' active' : ''}`}
            aria-current={logName === name ? 'page' : undefined}
            data-testid={`log-tab-${logName}`}
          >
            {logName}
          </Link>
        ))}
      </nav>
      <LogView key={name} runId={runId} name={name} />
    </div>
  );
}
