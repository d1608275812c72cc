/**
 * Deleting a model version: a button in the page header and a confirmation dialog. The server refuses
 * (409) while a deployment serves the version; its message is shown in the dialog, which stays open.
 */
import '../ExperimentRuns.css'; // the dialog's styles (RunsConfirmDialog)

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate } from 'react-router-dom';

import { api, unwrap } from '../../api/client';
import type { ModelInfo } from '../../api/types';
import { RunsConfirmDialog } from '../../components/RunsConfirmDialog';
import { modelUrl } from '../../lib/models';

export function ModelDeleteButton({ model, versions }: { model: ModelInfo; versions: readonly ModelInfo[] }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const only = versions.length === 1;
  const remove = useMutation({
    mutationFn: () =>
      unwrap(api.DELETE('/api/v1/model-versions/{model_id}', { params: { path: { model_id: model.id } } })),
    onSuccess: async () => {
      setOpen(false);
      // Drop the version from the cached list and leave its address before asking again, so the page
      // neither flashes "does not exist" nor shows the deleted version as the latest meanwhile.
      queryClient.setQueryData<ModelInfo[]>(['models', model.name, 'versions'], (old) =>
        old?.filter((v) => v.id !== model.id),
      );
      await navigate(only ? '/models' : modelUrl(model.name), { replace: true });
      queryClient.removeQueries({ queryKey: ['model-versions', model.id] });
      await queryClient.invalidateQueries({ queryKey: ['models'] });
    },
  });
  const aliases = [...(model.aliases ?? [])].sort();

  return (
    <>
      <button
        type="button"
        className="button danger"
        onClick={() => {
          remove.reset();
          setOpen(true);
        }}
        data-testid="model-delete"
      >
        Delete
      </button>
      <RunsConfirmDialog
        open={open}
        title={`Delete ${model.name} v${model.version}?`}
        confirmLabel="Delete version"
        busy={remove.isPending}
        error={remove.error ? remove.error.message : null}
        onConfirm={() => remove.mutate()}
        onCancel={() => setOpen(false)}
      >
        <p className="model-dialog-text" data-testid="model-delete-text">
          Version {model.version} leaves the registry
          {aliases.length > 0 && (
            <>
              {' '}
              with its {aliases.length === 1 ? 'alias' : 'aliases'} <strong>{aliases.join(', ')}</strong>
            </>
          )}
          . {only ? `It is the only version: ${model.name} disappears from the list.` : 'The other versions stay.'} This
          cannot be undone.
        </p>
      </RunsConfirmDialog>
    </>
  );
}
