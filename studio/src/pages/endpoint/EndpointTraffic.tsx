/**
 * The traffic editor: per deployment, the percentage of live requests it answers and the percentage of
 * live requests copied (mirrored) to it. Checked here as the server will check it (whole numbers, live
 * traffic summing to 100 or all 0, one mirror target without live traffic, at most 50%), saved with a
 * PATCH; the server's refusal is shown under the form.
 */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { api, unwrap } from '../../api/client';
import { ErrorBanner } from '../../components/ErrorBanner';
import { MAX_MIRROR_PERCENT, checkTraffic, sameTraffic, trafficDraft, type TrafficDraft } from '../../lib/endpoints';
import { DataCard } from '../dataset/DataParts';
import { endpointKey, type EndpointInfo } from './EndpointQueries';

function PercentInput({
  value,
  onChange,
  label,
  error,
  max,
  testId,
}: {
  value: string;
  onChange: (value: string) => void;
  label: string;
  error: string | undefined;
  max: number;
  testId: string;
}) {
  return (
    <span className="endpoint-percent">
      <input
        className={`search endpoint-percent-input${error ? ' invalid' : ''}`}
        type="text"
        inputMode="numeric"
        value={value}
        onChange={(event) => onChange(event.target.value)}
        aria-label={label}
        aria-invalid={error ? true : undefined}
        title={error ?? `0 to ${max}`}
        data-testid={testId}
      />
      <span className="muted">%</span>
    </span>
  );
}

export function EndpointTraffic({ endpoint }: { endpoint: EndpointInfo }) {
  const queryClient = useQueryClient();
  const [edited, setEdited] = useState<TrafficDraft | null>(null);
  const names = (endpoint.deployments ?? []).map((d) => d.name);
  // Until the user types, the form follows the endpoint (it is polled, and others may change it).
  const draft = edited ?? trafficDraft(endpoint);
  const check = checkTraffic(draft, names);
  const unchanged = check.update !== null && sameTraffic(check.update, endpoint);

  const save = useMutation({
    mutationFn: (update: NonNullable<typeof check.update>) =>
      unwrap(
        api.PATCH('/api/v1/endpoints/{name}', {
          params: { path: { name: endpoint.name } },
          body: { traffic: update.traffic, mirror_traffic: update.mirror_traffic },
        }),
      ),
    onSuccess: async (updated) => {
      queryClient.setQueryData(endpointKey(endpoint.name), updated);
      setEdited(null);
      await queryClient.invalidateQueries({ queryKey: ['endpoints', 'list'] });
    },
  });

  const set = (kind: 'traffic' | 'mirror', name: string, value: string) => {
    save.reset();
    setEdited({ ...draft, [kind]: { ...draft[kind], [name]: value } });
  };

  return (
    <DataCard title="Traffic" testId="endpoint-traffic" flush>
      <form
        className="endpoint-traffic-form"
        onSubmit={(event) => {
          event.preventDefault();
          if (check.update) save.mutate(check.update);
        }}
      >
        <div className="table-wrap">
          <table className="data endpoint-traffic-table">
            <caption className="visually-hidden">Live and mirrored traffic per deployment</caption>
            <thead>
              <tr>
                <th scope="col">Deployment</th>
                <th scope="col">Live traffic</th>
                <th
                  scope="col"
                  title={`a copy of this share of live requests, answers discarded (at most ${MAX_MIRROR_PERCENT}%)`}
                >
                  Mirror
                </th>
              </tr>
            </thead>
            <tbody>
              {names.map((name) => (
                <tr key={name} data-testid="traffic-row" data-name={name}>
                  <th scope="row" className="endpoint-deployment-cell">
                    {name}
                  </th>
                  <td>
                    <PercentInput
                      value={draft.traffic[name] ?? ''}
                      onChange={(value) => set('traffic', name, value)}
                      label={`Live traffic to ${name} (%)`}
                      error={check.fieldErrors[`traffic:${name}`]}
                      max={100}
                      testId="traffic-input"
                    />
                  </td>
                  <td>
                    <PercentInput
                      value={draft.mirror[name] ?? ''}
                      onChange={(value) => set('mirror', name, value)}
                      label={`Traffic mirrored to ${name} (%)`}
                      error={check.fieldErrors[`mirror:${name}`]}
                      max={MAX_MIRROR_PERCENT}
                      testId="mirror-input"
                    />
                  </td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">Total live</th>
                <td colSpan={2}>
                  <span
                    className={`endpoint-traffic-total${check.total === 100 || check.total === 0 ? '' : ' bad'}`}
                    data-testid="traffic-total"
                  >
                    {check.total}%
                  </span>
                </td>
              </tr>
            </tfoot>
          </table>
        </div>
        <div className="card-body endpoint-traffic-footer">
          {check.error && (
            <p className="endpoint-form-error" role="alert" data-testid="traffic-error">
              {check.error}
            </p>
          )}
          {check.warning && (
            <p className="endpoint-form-warning" data-testid="traffic-warning">
              {check.warning}
            </p>
          )}
          {save.isError && <ErrorBanner error={save.error} title="The server refused the traffic" />}
          <div className="endpoint-actions">
            <button
              type="submit"
              className="button primary"
              disabled={check.update === null || unchanged || save.isPending}
              data-testid="traffic-save"
            >
              {save.isPending ? 'Saving…' : 'Save traffic'}
            </button>
            <button
              type="button"
              className="button"
              disabled={edited === null}
              onClick={() => {
                save.reset();
                setEdited(null);
              }}
            >
              Reset
            </button>
            {save.isSuccess && edited === null && (
              <span className="muted" role="status" data-testid="traffic-saved">
                Saved.
              </span>
            )}
          </div>
        </div>
      </form>
    </DataCard>
  );
}
