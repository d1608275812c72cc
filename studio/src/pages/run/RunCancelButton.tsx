import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { api, unwrap } from '../../api/client';
import type { RunInfo } from '../../api/client';
import { ErrorBanner } from '../../components/ErrorBanner';

/**
 * Cancel an active run, after the user confirms. An interactive run is Canceled at once; a submitted
 * one goes to CancelRequested until its runner stops the script.
 */
export function RunCancelButton({ run }: { run: RunInfo }) {
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const cancel = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/runs/{run_id}/cancel', { params: { path: { run_id: run.id } } })),
    onSuccess: (info) => {
      setConfirming(false);
      queryClient.setQueryData(['runs', run.id], (old: unknown) =>
        old && typeof old === 'object' ? { ...old, info } : old,
      );
      void queryClient.invalidateQueries({ queryKey: ['runs'] });
    },
  });
  const requested = run.status === 'CancelRequested';

  if (!confirming) {
    return (
      <button
        type="button"
        className="button danger"
        data-testid="cancel-run"
        disabled={requested}
        title={requested ? 'The run is being stopped' : undefined}
        onClick={() => setConfirming(true)}
      >
        {requested ? 'Canceling…' : 'Cancel run'}
      </button>
    );
  }
  return (
    <div className="run-confirm" role="group" aria-label="Confirm cancel">
      <span>Stop this run? Its script is killed; what it logged so far is kept.</span>
      <button
        type="button"
        className="button danger solid"
        data-testid="cancel-run-confirm"
        disabled={cancel.isPending}
        onClick={() => cancel.mutate()}
      >
        {cancel.isPending ? 'Canceling…' : 'Yes, cancel the run'}
      </button>
      <button type="button" className="button" onClick={() => setConfirming(false)} disabled={cancel.isPending}>
        Keep running
      </button>
      {cancel.isError && <ErrorBanner error={cancel.error} title="Could not cancel the run" />}
    </div>
  );
}
