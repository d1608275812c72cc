/**
 * A folder tree of a run's files (outputs or snapshot). Files are links that put `?path=` in the
 * URL, so a selected file is a deep link; folders open and close.
 */
import { useEffect, useMemo, useState } from 'react';
import { Link, useLocation } from 'react-router-dom';

import { ancestors, buildTree, type FileEntry, formatBytes, type TreeNode } from './RunFiles';

function hrefWithPath(search: string, path: string): string {
  const params = new URLSearchParams(search);
  params.set('path', path);
  return `?${params.toString()}`;
}

export function RunFileTree({ files, selected, label }: { files: readonly FileEntry[]; selected: string | null; label: string }) {
  const tree = useMemo(() => buildTree(files), [files]);
  // Folders start open when there are few files; the selected file's folders are always opened.
  const [open, setOpen] = useState<Set<string>>(() => {
    const initial = new Set<string>();
    if (files.length <= 50) for (const file of files) for (const folder of ancestors(file.path)) initial.add(folder);
    return initial;
  });
  useEffect(() => {
    if (!selected) return;
    setOpen((current) => {
      const missing = ancestors(selected).filter((folder) => !current.has(folder));
      return missing.length ? new Set([...current, ...missing]) : current;
    });
  }, [selected]);
  const location = useLocation();

  const toggle = (path: string) =>
    setOpen((current) => {
      const next = new Set(current);
      if (next.has(path)) next.delete(path);
      else next.add(path);
      return next;
    });

  const render = (nodes: TreeNode[], depth: number) => (
    <ul className="run-tree-list" role={depth === 0 ? 'tree' : 'group'} aria-label={depth === 0 ? label : undefined}>
      {nodes.map((node) => {
        const pad = { paddingLeft: `${8 + depth * 14}px` };
        if (node.children) {
          const isOpen = open.has(node.path);
          return (
            <li key={`d:${node.path}`} role="treeitem" aria-expanded={isOpen}>
              <button
                type="button"
                className="run-tree-row folder"
                style={pad}
                onClick={() => toggle(node.path)}
                data-testid="file-tree-folder"
                data-path={node.path}
              >
                <span className="run-tree-caret" aria-hidden="true">
                  {isOpen ? '▾' : '▸'}
                </span>
                <span className="run-tree-name">{node.name}/</span>
                <span className="run-tree-size">{formatBytes(node.size)}</span>
              </button>
              {isOpen && render(node.children, depth + 1)}
            </li>
          );
        }
        const isSelected = node.path === selected;
        return (
          <li key={`f:${node.path}`} role="treeitem" aria-selected={isSelected}>
            <Link
              to={hrefWithPath(location.search, node.path)}
              replace
              className={`run-tree-row file${isSelected ? ' selected' : ''}`}
              style={pad}
              data-testid="file-tree-item"
              data-path={node.path}
              aria-current={isSelected ? 'true' : undefined}
            >
              <span className="run-tree-caret" aria-hidden="true" />
              <span className="run-tree-name">{node.name}</span>
              <span className="run-tree-size">{formatBytes(node.size)}</span>
            </Link>
          </li>
        );
      })}
    </ul>
  );

  return <nav className="run-tree">{render(tree, 0)}</nav>;
}
