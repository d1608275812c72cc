/**
 * The run overview's Models card: the model versions registered from this run's files, each linked to
 * its page; nothing when the run registered none.
 */
import '../model/Model.css';

import { Link } from 'react-router-dom';

import { useRunModels } from '../../api/queries';
import { ErrorBanner } from '../../components/ErrorBanner';
import { RelativeTime } from '../../components/RelativeTime';
import { frameworkLabel, modelUrl } from '../../lib/models';
import { AliasBadges } from '../model/ModelParts';
import { formatBytes } from './RunFiles';

export function RunModels({ runId, active }: { runId: string; active: boolean }) {
  // A live run may register its model any time: keep asking while it runs.
  const models = useRunModels(runId, { refetchInterval: active ? 5000 : false });
  if (models.isPending) return null;
  if (models.isError) return <ErrorBanner error={models.error} title="Could not load the run's models" />;
  if (models.data.length === 0) return null;
  return (
    <section className="card" aria-label="Models" data-testid="run-models">
      <header>
        <h2>Models</h2>
      </header>
      <div className="table-wrap">
        <table className="data">
          <caption className="visually-hidden">The model versions registered from this run</caption>
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">Aliases</th>
              <th scope="col">Framework</th>
              <th scope="col" className="num">
                Files
              </th>
              <th scope="col" className="num">
                Size
              </th>
              <th scope="col">Registered</th>
            </tr>
          </thead>
          <tbody>
            {models.data.map((model) => (
              <tr key={model.id} data-testid="run-model" data-name={model.name} data-version={model.version}>
                <td>
                  <Link to={modelUrl(model.name, { version: model.version })}>
                    {model.name} <span className="muted">v{model.version}</span>
                  </Link>
                </td>
                <td>
                  <AliasBadges aliases={model.aliases} />
                </td>
                <td>{frameworkLabel(model) ?? <span className="muted">—</span>}</td>
                <td className="num">{model.file_count.toLocaleString()}</td>
                <td className="num">{formatBytes(model.total_size)}</td>
                <td>
                  <RelativeTime value={model.created_time} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
