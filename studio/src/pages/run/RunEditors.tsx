/** The parts of a run a user edits on its page, even after it ended: description and tags. */
import { useMutation, useQueryClient } from '@tanstack/react-query';

import { api, unwrap } from '../../api/client';
import type { RunInfo } from '../../api/client';
import { DescriptionEditor, type Tag, TagEditor } from '../../components/Editors';

export function RunDescription({ run }: { run: RunInfo }) {
  const queryClient = useQueryClient();
  const save = useMutation({
    mutationFn: (description: string) =>
      unwrap(api.PATCH('/api/v1/runs/{run_id}', { params: { path: { run_id: run.id } }, body: { description } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['runs', run.id] }),
  });
  return <DescriptionEditor text={run.description} testId="run-description" inputId="run-description-input" save={save} />;
}

export function RunTags({ runId, tags }: { runId: string; tags: Record<string, string> }) {
  const queryClient = useQueryClient();
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['runs'] });
  const add = useMutation({
    mutationFn: (tag: Tag) =>
      unwrap(
        api.PATCH('/api/v1/runs/{run_id}/tags', {
          params: { path: { run_id: runId } },
          body: { tags: { [tag.key]: tag.value } },
        }),
      ),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: (tagKey: string) =>
      unwrap(api.DELETE('/api/v1/runs/{run_id}/tags/{key}', { params: { path: { run_id: runId, key: tagKey } } })),
    onSuccess: refresh,
  });
  return <TagEditor tags={tags} listTestId="run-tags" itemTestId="run-tag" add={add} remove={remove} />;
}
