/**
 * The run overview's Datasets card: the dataset versions the run consumed (inputs) and produced
 * (outputs), each linked to its dataset page; nothing when the run used none.
 */
import { Link } from 'react-router-dom';

import { useRunDatasets } from '../../api/queries';
import { ErrorBanner } from '../../components/ErrorBanner';
import { datasetUrl } from '../../lib/data';

const MODES: Record<string, string> = {
  download: 'download',
  direct: 'direct (read in place)',
  output: 'output',
};

export function RunDatasets({ runId, active }: { runId: string; active: boolean }) {
  // Outputs are registered as the run ends: keep asking while it is live.
  const links = useRunDatasets(runId, { refetchInterval: active ? 5000 : false });
  if (links.isPending) return null;
  if (links.isError) return <ErrorBanner error={links.error} title="Could not load the run's datasets" />;
  if (links.data.length === 0) return null;
  const sorted = [...links.data].sort(
    (a, b) => (a.direction === b.direction ? a.name.localeCompare(b.name) : a.direction === 'input' ? -1 : 1),
  );
  return (
    <section className="card" aria-label="Datasets" data-testid="run-datasets">
      <header>
        <h2>Datasets</h2>
      </header>
      <div className="table-wrap">
        <table className="data">
          <caption className="visually-hidden">The datasets this run consumed and produced</caption>
          <thead>
            <tr>
              <th scope="col">Direction</th>
              <th scope="col">Name</th>
              <th scope="col">Dataset</th>
              <th scope="col">Mode</th>
            </tr>
          </thead>
          <tbody>
            {sorted.map((link) => (
              <tr key={`${link.direction}:${link.name}`} data-testid="run-dataset" data-direction={link.direction}>
                <td>
                  <span className={`badge ${link.direction === 'input' ? 'tone-active' : 'tone-ok'}`}>
                    {link.direction === 'input' ? 'Input' : 'Output'}
                  </span>
                </td>
                <td className="mono">{link.name}</td>
                <td>
                  <Link to={datasetUrl(link.dataset_name, { version: link.dataset_version })}>
                    {link.dataset_name} <span className="muted">v{link.dataset_version}</span>
                  </Link>
                </td>
                <td>{MODES[link.mode] ?? link.mode}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
