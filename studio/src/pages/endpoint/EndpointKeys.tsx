/**
 * The keys tab. A key-auth endpoint has two keys (rotate one while callers use the other): they stay
 * masked until "Reveal" asks the server for them, and either can be regenerated after a confirmation
 * (the old one is refused from then on). A token-auth endpoint has no keys: "Get token" asks for a
 * short-lived token and shows when it expires. Nothing secret is kept once the tab is left.
 */
import '../ExperimentRuns.css'; // the dialog's styles (RunsConfirmDialog)

import { useMutation } from '@tanstack/react-query';
import { useEffect, useState } from 'react';

import { api, unwrap } from '../../api/client';
import { ErrorBanner } from '../../components/ErrorBanner';
import { RunsConfirmDialog } from '../../components/RunsConfirmDialog';
import { MASKED_SECRET, curlSnippet, expiresIn } from '../../lib/endpoints';
import { formatDateTime } from '../../lib/format';
import { DataCard, Snippet } from '../dataset/DataParts';
import { CopyButton } from './EndpointParts';
import type { EndpointInfo, EndpointKeys } from './EndpointQueries';

type KeyType = 'primary' | 'secondary';
const KEY_TYPES: readonly KeyType[] = ['primary', 'secondary'];

function KeyAuth({ endpoint }: { endpoint: EndpointInfo }) {
  const [keys, setKeys] = useState<EndpointKeys | null>(null);
  const [confirm, setConfirm] = useState<KeyType | null>(null);
  const [regenerated, setRegenerated] = useState<KeyType | null>(null);
  const path = { params: { path: { name: endpoint.name } } };
  const reveal = useMutation({
    mutationFn: () => unwrap(api.GET('/api/v1/endpoints/{name}/keys', path)),
    onSuccess: setKeys,
  });
  const regenerate = useMutation({
    mutationFn: (keyType: KeyType) =>
      unwrap(api.POST('/api/v1/endpoints/{name}/keys/regenerate', { ...path, body: { key_type: keyType } })),
    onSuccess: (fresh, keyType) => {
      setKeys(fresh);
      setRegenerated(keyType);
      setConfirm(null);
    },
  });

  return (
    <DataCard
      title="Keys"
      testId="endpoint-keys"
      flush
      actions={
        keys ? (
          <button type="button" className="button small" onClick={() => setKeys(null)} data-testid="keys-hide">
            Hide
          </button>
        ) : (
          <button
            type="button"
            className="button small primary"
            onClick={() => reveal.mutate()}
            disabled={reveal.isPending}
            data-testid="keys-reveal"
          >
            {reveal.isPending ? 'Revealing…' : 'Reveal'}
          </button>
        )
      }
    >
      {reveal.isError && (
        <div className="card-body">
          <ErrorBanner error={reveal.error} title="Could not read the keys" />
        </div>
      )}
      <div className="table-wrap">
        <table className="data endpoint-keys-table">
          <caption className="visually-hidden">The endpoint's keys</caption>
          <tbody>
            {KEY_TYPES.map((keyType) => {
              const value = keys ? (keyType === 'primary' ? keys.primary_key : keys.secondary_key) : null;
              return (
                <tr key={keyType} data-testid="key-row" data-key-type={keyType}>
                  <th scope="row">{keyType === 'primary' ? 'Primary key' : 'Secondary key'}</th>
                  <td>
                    <span className="endpoint-copyable">
                      <code
                        className={`endpoint-value endpoint-secret${value ? '' : ' masked'}`}
                        data-testid="key-value"
                        aria-label={value ? undefined : 'hidden'}
                      >
                        {value ?? MASKED_SECRET}
                      </code>
                      {value && <CopyButton text={value} label={`Copy the ${keyType} key`} testId="key-copy" />}
                      {regenerated === keyType && (
                        <span className="badge tone-ok" data-testid="key-regenerated">
                          new
                        </span>
                      )}
                    </span>
                  </td>
                  <td className="num">
                    <button
                      type="button"
                      className="button small"
                      onClick={() => {
                        regenerate.reset();
                        setConfirm(keyType);
                      }}
                      data-testid="key-regenerate"
                    >
                      Regenerate
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p className="placeholder-note endpoint-keys-note">
        Callers send either key as <code>Authorization: Bearer &lt;key&gt;</code>. To rotate without downtime, move
        callers to the secondary key, regenerate the primary, and move them back.
      </p>
      <RunsConfirmDialog
        open={confirm !== null}
        title={`Regenerate the ${confirm ?? 'primary'} key?`}
        confirmLabel="Regenerate"
        busy={regenerate.isPending}
        error={regenerate.error ? regenerate.error.message : null}
        onConfirm={() => {
          if (confirm) regenerate.mutate(confirm);
        }}
        onCancel={() => setConfirm(null)}
      >
        <p className="endpoint-dialog-text">
          The current {confirm ?? 'primary'} key of <strong>{endpoint.name}</strong> is refused from then on: callers
          still using it get 401. The other key keeps working.
        </p>
      </RunsConfirmDialog>
    </DataCard>
  );
}

function TokenAuth({ endpoint }: { endpoint: EndpointInfo }) {
  const [now, setNow] = useState(() => Date.now());
  const token = useMutation({
    mutationFn: () =>
      unwrap(api.POST('/api/v1/endpoints/{name}/token', { params: { path: { name: endpoint.name } } })),
  });
  // The "expires in" line counts down while the token is shown.
  useEffect(() => {
    if (!token.data) return undefined;
    const timer = window.setInterval(() => setNow(Date.now()), 15_000);
    return () => window.clearInterval(timer);
  }, [token.data]);

  return (
    <DataCard
      title="Token"
      testId="endpoint-token"
      actions={
        <button
          type="button"
          className="button small primary"
          onClick={() => {
            setNow(Date.now());
            token.mutate();
          }}
          disabled={token.isPending}
          data-testid="token-get"
        >
          {token.isPending ? 'Asking…' : token.data ? 'Get a new token' : 'Get token'}
        </button>
      }
    >
      {token.isError && <ErrorBanner error={token.error} title="Could not get a token" />}
      {token.data ? (
        <dl className="facts data-facts">
          <dt>Token</dt>
          <dd>
            <span className="endpoint-copyable">
              <code className="endpoint-value endpoint-secret" data-testid="token-value">
                {token.data.access_token}
              </code>
              <CopyButton text={token.data.access_token} label="Copy the token" />
            </span>
          </dd>
          <dt>Type</dt>
          <dd>{token.data.token_type}</dd>
          <dt>Expires</dt>
          <dd data-testid="token-expiry">
            {expiresIn(token.data.expiry_time, now)}{' '}
            <span className="muted">({formatDateTime(token.data.expiry_time * 1000)})</span>
          </dd>
        </dl>
      ) : (
        <p className="muted endpoint-note">
          This endpoint takes tokens, not keys: each is valid for an hour. Callers send it as{' '}
          <code>Authorization: Bearer &lt;token&gt;</code>.
        </p>
      )}
    </DataCard>
  );
}

export function EndpointKeysTab({ endpoint }: { endpoint: EndpointInfo }) {
  return (
    <div className="stack">
      {endpoint.auth_mode === 'token' ? <TokenAuth endpoint={endpoint} /> : <KeyAuth endpoint={endpoint} />}
      <DataCard title="Call it" testId="keys-usage">
        <Snippet code={curlSnippet(endpoint.scoring_uri, endpoint.auth_mode)} />
      </DataCard>
    </div>
  );
}
