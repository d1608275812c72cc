import { Route, Routes } from 'react-router-dom';

import { Layout } from './components/Layout';
import Compare from './pages/Compare';
import Compute from './pages/Compute';
import DatasetDetail from './pages/DatasetDetail';
import Datasets from './pages/Datasets';
import DatastoreBrowse from './pages/DatastoreBrowse';
import Datastores from './pages/Datastores';
import EndpointDetail from './pages/EndpointDetail';
import Endpoints from './pages/Endpoints';
import Environments from './pages/Environments';
import ExperimentRuns from './pages/ExperimentRuns';
import Experiments from './pages/Experiments';
import Home from './pages/Home';
import ModelDetail from './pages/ModelDetail';
import Models from './pages/Models';
import NotFound from './pages/NotFound';
import RunDetail from './pages/RunDetail';

/** Every page of the studio. The server answers index.html for any path outside /api/, so each is a deep link. */
export function App() {
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<Home />} />
        <Route path="experiments" element={<Experiments />} />
        <Route path="experiments/:experimentId" element={<ExperimentRuns />} />
        <Route path="runs/:runId/*" element={<RunDetail />} />
        <Route path="compare" element={<Compare />} />
        <Route path="datasets" element={<Datasets />} />
        <Route path="datasets/:name/*" element={<DatasetDetail />} />
        <Route path="datastores" element={<Datastores />} />
        <Route path="datastores/:name" element={<DatastoreBrowse />} />
        <Route path="models" element={<Models />} />
        <Route path="models/:name/*" element={<ModelDetail />} />
        <Route path="endpoints" element={<Endpoints />} />
        <Route path="endpoints/:name/*" element={<EndpointDetail />} />
        <Route path="compute" element={<Compute />} />
        <Route path="environments" element={<Environments />} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}
