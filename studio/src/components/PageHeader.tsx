import type { ReactNode } from 'react';

/** A page's title, an optional line under it, breadcrumbs above and actions to the right. */
export function PageHeader({
  title,
  subtitle,
  breadcrumbs,
  actions,
}: {
  title: ReactNode;
  subtitle?: ReactNode;
  breadcrumbs?: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <div className="page-header">
      <div>
        {breadcrumbs && <nav className="breadcrumbs" aria-label="Breadcrumbs">{breadcrumbs}</nav>}
        <h1>{title}</h1>
        {subtitle && <p>{subtitle}</p>}
      </div>
      {actions && <div className="toolbar">{actions}</div>}
    </div>
  );
}
