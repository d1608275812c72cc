/** Small pieces the endpoint pages share: a copy button, status and auth badges, the serving host's state. */
import { Fragment, useEffect, useRef, useState } from 'react';

import { deploymentStatus, httpStatusText, httpStatusTone } from '../../lib/endpoints';
import type { ServingHostInfo } from './EndpointQueries';

/** Put text on the clipboard; where the Clipboard API is missing (an http origin), a hidden textarea does it. */
async function copyText(text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.className = 'visually-hidden';
  document.body.append(area);
  area.select();
  const copied = document.execCommand('copy');
  area.remove();
  if (!copied) throw new Error('the browser refused to copy');
}

/** A small button that copies `text` and says "Copied" for a moment. */
export function CopyButton({ text, label, testId }: { text: string; label: string; testId?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(timer.current), []);
  const copy = async () => {
    try {
      await copyText(text);
      setState('copied');
    } catch {
      setState('failed');
    }
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => setState('idle'), 1600);
  };
  return (
    <button
      type="button"
      className={`button small endpoint-copy${state === 'copied' ? ' copied' : ''}`}
      onClick={() => void copy()}
      aria-label={label}
      title={label}
      data-testid={testId}
    >
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed' : 'Copy'}
      <span className="visually-hidden" aria-live="polite">
        {state === 'copied' ? 'Copied to the clipboard' : ''}
      </span>
    </button>
  );
}

/** A URI that may wrap only after its slashes (never inside a word). */
export function BreakableUri({ uri }: { uri: string }) {
  const parts = uri.split(/(?<=\/)/);
  return (
    <>
      {parts.map((part, index) => (
        <Fragment key={index}>
          {index > 0 && <wbr />}
          {part}
        </Fragment>
      ))}
    </>
  );
}

/** A value in monospace with a copy button beside it (URIs wrap after slashes; keys and tokens anywhere). */
export function CopyableValue({
  value,
  label,
  testId,
  uri = false,
}: {
  value: string;
  label: string;
  testId?: string;
  uri?: boolean;
}) {
  return (
    <span className="endpoint-copyable">
      <code className={`endpoint-value${uri ? ' endpoint-uri' : ''}`} data-testid={testId}>
        {uri ? <BreakableUri uri={value} /> : value}
      </code>
      <CopyButton text={value} label={label} />
    </span>
  );
}

/** A deployment's status as a coloured pill (pulsing while it is created or updated). */
export function DeploymentStatusBadge({ status, message }: { status: string | undefined; message?: string }) {
  const { tone, live, label } = deploymentStatus(status);
  return (
    <span
      className={`badge tone-${tone}${live ? ' live' : ''}`}
      data-status={status}
      data-testid="deployment-status"
      title={message || undefined}
    >
      <span className="dot" aria-hidden="true" />
      {label}
    </span>
  );
}

/** How callers authenticate: with a key, or with a short-lived token. */
export function AuthModeBadge({ mode }: { mode: string }) {
  return (
    <span className={`badge endpoint-auth auth-${mode}`} data-auth={mode} data-testid="endpoint-auth">
      {mode === 'token' ? 'Token' : mode === 'key' ? 'Key' : mode}
    </span>
  );
}

/** Whether the serving host is alive, as a badge with its details on hover. */
export function ServingHostBadge({ host }: { host: ServingHostInfo | undefined }) {
  if (host === undefined) return <span className="muted">…</span>;
  const where = [host.hostname, host.pid ? `pid ${host.pid}` : null, host.url].filter(Boolean).join(' · ');
  return (
    <span
      className={`badge ${host.alive ? 'tone-ok' : 'tone-bad'}`}
      data-alive={host.alive ? 'true' : 'false'}
      data-testid="serving-host"
      title={where || undefined}
    >
      <span className="dot" aria-hidden="true" />
      {host.alive ? 'Serving host running' : 'Serving host down'}
    </span>
  );
}

/** An HTTP status as a pill: `200 OK`, `503 Service Unavailable`. */
export function HttpStatusBadge({ status }: { status: number }) {
  return (
    <span className={`badge tone-${httpStatusTone(status)}`} data-testid="invoke-status" data-status={status}>
      {status} {httpStatusText(status)}
    </span>
  );
}
