/**
 * A model version's overview: what it is (version, framework, format, files, where it came from), its
 * description and tags (editable), properties, the aliases on it (set and removed here), an MLflow
 * model's flavors and signature, and how to use it from Python.
 */
import { Link } from 'react-router-dom';

import type { ModelInfo } from '../../api/types';
import { RelativeTime } from '../../components/RelativeTime';
import { plural } from '../../lib/format';
import {
  aliasSnippet,
  flavorRows,
  frameworkLabel,
  modelUrl,
  signatureColumns,
  signatureParts,
  usageSnippet,
  type SignatureColumn,
} from '../../lib/models';
import { DataCard, Snippet } from '../dataset/DataParts';
import { formatBytes } from '../run/RunFiles';
import { ModelAliases, ModelDescription, ModelTags } from './ModelEditors';
import { ModelFormatBadge } from './ModelParts';
import { ProducedBy } from './ModelLineage';

/** A two-column table of names and values, or a muted line when there are none. */
function KeyValues({ values, empty, testId }: { values: Record<string, string>; empty: string; testId?: string }) {
  const entries = Object.entries(values).sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }));
  if (entries.length === 0) return <p className="muted run-none">{empty}</p>;
  return (
    <div className="table-wrap run-kv">
      <table className="data" data-testid={testId}>
        <tbody>
          {entries.map(([key, value]) => (
            <tr key={key} data-key={key}>
              <th scope="row" className="mono">
                {key}
              </th>
              <td className="mono">{value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const PART_TITLES: Record<string, string> = { inputs: 'Inputs', outputs: 'Outputs', params: 'Parameters' };

function SignatureTable({ part, schema }: { part: string; schema: unknown }) {
  const columns = signatureColumns(schema);
  const title = PART_TITLES[part] ?? part;
  if (columns === null) {
    return (
      <div className="model-signature-part" data-testid={`signature-${part}`}>
        <h3 className="run-subheading">{title}</h3>
        <pre className="run-pre">{typeof schema === 'string' ? schema : JSON.stringify(schema, null, 2)}</pre>
      </div>
    );
  }
  const tensors = columns.some((c) => c.dtype !== undefined || c.shape !== undefined);
  const defaults = columns.some((c) => c.defaultValue !== undefined);
  const optional = columns.some((c) => !c.required);
  const cell = (column: SignatureColumn) =>
    column.name === null ? <span className="muted">(unnamed)</span> : <span className="mono">{column.name}</span>;
  return (
    <div className="model-signature-part" data-testid={`signature-${part}`}>
      <h3 className="run-subheading">
        {title} <span className="muted model-count">({columns.length})</span>
      </h3>
      <div className="table-wrap model-signature-table">
        <table className="data">
          <caption className="visually-hidden">The model's {title.toLowerCase()}</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              {tensors && <th scope="col">Element type</th>}
              {tensors && <th scope="col">Shape</th>}
              {defaults && <th scope="col">Default</th>}
              {optional && <th scope="col">Required</th>}
            </tr>
          </thead>
          <tbody>
            {columns.map((column, index) => (
              <tr key={`${column.name ?? ''}:${index}`} data-testid="signature-column" data-name={column.name ?? ''}>
                <td>{cell(column)}</td>
                <td className="mono">{column.type}</td>
                {tensors && <td className="mono">{column.dtype ?? '—'}</td>}
                {tensors && <td className="mono">{column.shape ?? '—'}</td>}
                {defaults && <td className="mono">{column.defaultValue ?? '—'}</td>}
                {optional && <td>{column.required ? 'yes' : 'no'}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function MlflowCards({ model }: { model: ModelInfo }) {
  const flavors = flavorRows(model.flavors);
  const parts = signatureParts(model.signature);
  return (
    <div className="data-columns">
      <DataCard title={`Flavors (${flavors.length})`} testId="model-flavors" flush>
        <div className="table-wrap">
          <table className="data">
            <caption className="visually-hidden">The model's MLflow flavors and their settings</caption>
            <thead>
              <tr>
                <th scope="col">Flavor</th>
                <th scope="col">Settings</th>
              </tr>
            </thead>
            <tbody>
              {flavors.map((flavor) => (
                <tr key={flavor.name} data-testid="model-flavor" data-flavor={flavor.name}>
                  <th scope="row" className="mono model-flavor-name">
                    {flavor.name}
                  </th>
                  <td>
                    <dl className="model-settings">
                      {flavor.settings.map(([key, value]) => (
                        <div key={key}>
                          <dt>{key}</dt>
                          <dd className="mono">{value}</dd>
                        </div>
                      ))}
                    </dl>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </DataCard>
      <DataCard title="Signature" testId="model-signature">
        {parts.length === 0 ? (
          <p className="muted run-none">
            The MLmodel file has no signature: MLflow writes one when the model is logged with an input example or{' '}
            <code>signature=</code>.
          </p>
        ) : (
          parts.map(([part, schema]) => <SignatureTable key={part} part={part} schema={schema} />)
        )}
      </DataCard>
    </div>
  );
}

export function ModelOverview({ model, versions }: { model: ModelInfo; versions: readonly ModelInfo[] }) {
  const latest = versions[0];
  const framework = frameworkLabel(model);
  const firstAlias = [...(model.aliases ?? [])].sort()[0];
  return (
    <div className="data-overview">
      <div className="data-columns">
        <div className="stack">
          <DataCard title="Details" testId="model-details">
            <dl className="facts data-facts">
              <dt>Version</dt>
              <dd>
                v{model.version}{' '}
                {latest === undefined || model.id === latest.id ? (
                  <span className="badge tone-ok">latest</span>
                ) : (
                  <Link to={modelUrl(model.name)} className="data-newer">
                    newer: v{latest.version}
                  </Link>
                )}
              </dd>
              <dt>Registered</dt>
              <dd>
                <RelativeTime value={model.created_time} />
              </dd>
              <dt>Framework</dt>
              <dd data-testid="model-framework">{framework ?? <span className="muted">not given</span>}</dd>
              <dt>Format</dt>
              <dd>
                <ModelFormatBadge format={model.format} />
                {model.format === 'mlflow' && <span className="muted"> flavors and signature from its MLmodel file</span>}
              </dd>
              <dt>Files</dt>
              <dd data-testid="model-file-count">
                <Link to={modelUrl(model.name, { version: model.version, tab: 'files' })}>{plural(model.file_count, 'file')}</Link>,{' '}
                {formatBytes(model.total_size)}
              </dd>
              <dt>From run</dt>
              <dd>{model.run_id ? <ProducedBy runId={model.run_id} /> : <span className="muted">registered outside a run</span>}</dd>
              <dt>Id</dt>
              <dd className="mono muted">{model.id}</dd>
            </dl>
          </DataCard>
          <DataCard title="Description">
            <ModelDescription model={model} />
          </DataCard>
          <DataCard title="Tags" testId="model-tags-card">
            <ModelTags model={model} />
          </DataCard>
        </div>
        <div className="stack">
          <DataCard title="Aliases" testId="model-aliases-card">
            <ModelAliases model={model} versions={versions} />
          </DataCard>
          <DataCard title="Properties" testId="model-properties">
            <KeyValues values={model.properties ?? {}} empty="No properties." testId="model-properties-table" />
          </DataCard>
          <DataCard title="Use it" testId="model-usage">
            <Snippet code={usageSnippet(model)} />
            {firstAlias && (
              <Snippet label={`or whichever version @${firstAlias} points at`} code={aliasSnippet(model.name, firstAlias)} />
            )}
          </DataCard>
        </div>
      </div>
      {model.format === 'mlflow' && <MlflowCards model={model} />}
    </div>
  );
}
