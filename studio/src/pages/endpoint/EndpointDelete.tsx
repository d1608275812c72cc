/**
 * Deleting an endpoint: a button in the page header and a confirmation dialog. Its deployments go with
 * it (their replicas stop) and its keys stop working; the server's refusal is shown in the dialog.
 */
import '../ExperimentRuns.css'; // the dialog's styles (RunsConfirmDialog)

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate } from 'react-router-dom';

import { api, unwrap } from '../../api/client';
import { RunsConfirmDialog } from '../../components/RunsConfirmDialog';
import { plural } from '../../lib/format';
import { endpointKey, type EndpointInfo } from './EndpointQueries';

export function EndpointDeleteButton({ endpoint }: { endpoint: EndpointInfo }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE('/api/v1/endpoints/{name}', { params: { path: { name: endpoint.name } } })),
    onSuccess: async () => {
      setOpen(false);
      // Leave the page before the endpoint's own queries are dropped, so it never flashes "No such endpoint".
      queryClient.setQueryData<EndpointInfo[]>(['endpoints', 'list'], (old) => old?.filter((e) => e.id !== endpoint.id));
      await navigate('/endpoints', { replace: true });
      queryClient.removeQueries({ queryKey: endpointKey(endpoint.name) });
      await queryClient.invalidateQueries({ queryKey: ['endpoints'] });
    },
  });
  const deployments = endpoint.deployments ?? [];

  return (
    <>
      <button
        type="button"
        className="button danger"
        onClick={() => {
          remove.reset();
          setOpen(true);
        }}
        data-testid="endpoint-delete"
      >
        Delete
      </button>
      <RunsConfirmDialog
        open={open}
        title={`Delete the endpoint ${endpoint.name}?`}
        confirmLabel="Delete endpoint"
        busy={remove.isPending}
        error={remove.error ? remove.error.message : null}
        onConfirm={() => remove.mutate()}
        onCancel={() => setOpen(false)}
      >
        <p className="endpoint-dialog-text" data-testid="endpoint-delete-text">
          {deployments.length > 0 ? (
            <>
              Its {plural(deployments.length, 'deployment')} (<strong>{deployments.map((d) => d.name).join(', ')}</strong>)
              stop and are deleted with it.{' '}
            </>
          ) : null}
          Callers of <code>{endpoint.scoring_uri}</code> get 404 from then on, and its keys stop working. The models
          stay registered. This cannot be undone.
        </p>
      </RunsConfirmDialog>
    </>
  );
}
