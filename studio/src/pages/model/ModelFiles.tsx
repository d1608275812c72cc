/** A model version's files: path, size, digest and mode, each downloadable from the files endpoint. */
import { useModelFiles } from '../../api/queries';
import type { ModelInfo } from '../../api/types';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Spinner } from '../../components/Spinner';
import { plural } from '../../lib/format';
import { pythonString } from '../../lib/data';
import { modelFileUrl } from '../../lib/models';
import { Snippet } from '../dataset/DataParts';
import { formatBytes } from '../run/RunFiles';

export function ModelFiles({ model }: { model: ModelInfo }) {
  const files = useModelFiles(model.id);
  if (files.isPending) return <Spinner label="Loading the files…" />;
  if (files.isError) {
    return <ErrorBanner error={files.error} title="Could not load the files" onRetry={() => void files.refetch()} />;
  }
  return (
    <div className="stack">
      <section className="card" aria-label="Files">
        <header>
          <h2>
            {plural(files.data.length, 'file')}
            <span className="muted data-heading-note"> · {formatBytes(model.total_size)}</span>
          </h2>
        </header>
        <div className="table-wrap">
          <table className="data" data-testid="model-files">
            <caption className="visually-hidden">
              The files of {model.name} v{model.version}
            </caption>
            <thead>
              <tr>
                <th scope="col">Path</th>
                <th scope="col" className="num">
                  Size
                </th>
                <th scope="col">Digest (SHA-256)</th>
                <th scope="col">
                  <span className="visually-hidden">Download</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {files.data.map((file) => {
                const url = modelFileUrl(model.id, file.path);
                const name = file.path.split('/').pop() ?? file.path;
                return (
                  <tr key={file.path} data-testid="model-file" data-path={file.path}>
                    <td className="mono">
                      <a href={url} download={name} title={`Download ${file.path}`}>
                        {file.path}
                      </a>
                      {file.executable && (
                        <span className="run-chip" title="Written with the executable bit set">
                          executable
                        </span>
                      )}
                    </td>
                    <td className="num">{formatBytes(file.size)}</td>
                    <td className="mono muted" title={file.digest}>
                      {file.digest.slice(0, 16)}…
                    </td>
                    <td className="num">
                      <a className="button small" href={url} download={name} data-testid="model-file-download">
                        Download
                      </a>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </section>
      <section className="card" aria-label="Download every file">
        <header>
          <h2>Every file at once</h2>
        </header>
        <div className="card-body">
          <Snippet
            label="From Python"
            code={`model = ember.Model(ws, ${pythonString(model.name)}, version=${model.version})\nmodel.download(${pythonString(`./${model.name}`)})  # checks each file's digest`}
          />
          <Snippet label="or from the command line" code={`ember model download ${model.name}:${model.version} ./${model.name}`} />
        </div>
      </section>
    </div>
  );
}
