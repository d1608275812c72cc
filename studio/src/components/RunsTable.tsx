import { Link } from 'react-router-dom';

import type { RunDetails } from '../api/client';
import { formatDuration, runDuration } from '../lib/format';
import { RelativeTime } from './RelativeTime';
import { StatusBadge } from './StatusBadge';

/** A short table of runs (name, experiment, status, started, duration), each linked to its page. */
export function RunsTable({ runs, caption }: { runs: RunDetails[]; caption: string }) {
  return (
    <div className="table-wrap">
      <table className="data">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Experiment</th>
            <th scope="col">Status</th>
            <th scope="col">Created</th>
            <th scope="col" className="num">
              Duration
            </th>
          </tr>
        </thead>
        <tbody>
          {runs.map(({ info }) => (
            <tr key={info.id}>
              <td className="truncate">
                <Link to={`/runs/${encodeURIComponent(info.id)}`}>{info.display_name || info.id}</Link>
              </td>
              <td className="truncate">
                <Link to={`/experiments/${encodeURIComponent(info.experiment_id)}`}>
                  {info.experiment_name ?? info.experiment_id}
                </Link>
              </td>
              <td>
                <StatusBadge status={info.status} />
              </td>
              <td>
                <RelativeTime value={info.created_time} />
              </td>
              <td className="num">{formatDuration(runDuration(info))}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
