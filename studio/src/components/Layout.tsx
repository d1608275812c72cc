import { NavLink, Outlet } from 'react-router-dom';

import { useWorkspace } from '../api/queries';
import { useTheme } from '../lib/theme';
import { EndpointsIcon } from './EndpointsIcon';
import {
  ComputeIcon,
  DatasetsIcon,
  DatastoresIcon,
  EnvironmentsIcon,
  ExperimentsIcon,
  HomeIcon,
  ModelsIcon,
  MoonIcon,
  SunIcon,
} from './Icons';

/** The sidebar's entries; a page others add gets a line here. */
const NAVIGATION = [
  {
    section: 'Workspace',
    items: [
      { to: '/', label: 'Home', icon: <HomeIcon />, end: true },
      { to: '/experiments', label: 'Experiments', icon: <ExperimentsIcon />, end: false },
    ],
  },
  {
    section: 'Data',
    items: [
      { to: '/datasets', label: 'Datasets', icon: <DatasetsIcon />, end: false },
      { to: '/datastores', label: 'Datastores', icon: <DatastoresIcon />, end: false },
    ],
  },
  {
    section: 'Assets',
    items: [
      { to: '/models', label: 'Models', icon: <ModelsIcon />, end: false },
      { to: '/endpoints', label: 'Endpoints', icon: <EndpointsIcon />, end: false },
      { to: '/compute', label: 'Compute', icon: <ComputeIcon />, end: false },
      { to: '/environments', label: 'Environments', icon: <EnvironmentsIcon />, end: false },
    ],
  },
];

function ThemeToggle() {
  const { theme, toggle } = useTheme();
  const next = theme === 'dark' ? 'light' : 'dark';
  return (
    <button
      type="button"
      className="button icon"
      onClick={toggle}
      aria-label={`Switch to ${next} theme`}
      title={`Switch to ${next} theme`}
      data-testid="theme-toggle"
    >
      {theme === 'dark' ? <SunIcon /> : <MoonIcon />}
    </button>
  );
}

function WorkspaceName() {
  const workspace = useWorkspace();
  let name = '…';
  if (workspace.data) name = workspace.data.name;
  else if (workspace.isError) name = 'server unreachable';
  return (
    <div className="workspace" title={workspace.data ? `workspace ${workspace.data.id}` : undefined}>
      <span className="workspace-label">Workspace</span>
      <span className="workspace-name" data-testid="workspace-name">
        {name}
      </span>
    </div>
  );
}

/** The app shell: skip link, brand, top bar (workspace, theme), sidebar navigation, page. */
export function Layout() {
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <div className="shell">
        <NavLink to="/" className="brand" aria-label="Ember studio home">
          <img src="/favicon.svg" alt="" />
          <span>Ember</span>
          <small>studio</small>
        </NavLink>
        <header className="topbar">
          <WorkspaceName />
          <div className="spacer" />
          <a className="button" href="/api/v1/docs">
            API docs
          </a>
          <ThemeToggle />
        </header>
        <nav className="sidebar" aria-label="Main">
          {NAVIGATION.map(({ section, items }) => (
            <div key={section}>
              <div className="nav-section">{section}</div>
              <ul>
                {items.map((item) => (
                  <li key={item.to}>
                    <NavLink to={item.to} end={item.end}>
                      {item.icon}
                      {item.label}
                    </NavLink>
                  </li>
                ))}
              </ul>
            </div>
          ))}
        </nav>
        <main id="main" tabIndex={-1}>
          <Outlet />
        </main>
      </div>
    </>
  );
}
