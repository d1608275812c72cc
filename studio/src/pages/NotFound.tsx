import { Link, useLocation } from 'react-router-dom';

import { useTitle } from '../lib/useTitle';

export default function NotFound() {
  useTitle('Not found');
  const location = useLocation();
  return (
    <div className="page not-found">
      <div className="code" aria-hidden="true">
        404
      </div>
      <h1>This page does not exist</h1>
      <p className="muted">
        Nothing in the studio lives at <code>{location.pathname}</code>.
      </p>
      <p>
        <Link to="/">Go to the workspace home</Link> or <Link to="/experiments">browse experiments</Link>.
      </p>
    </div>
  );
}
