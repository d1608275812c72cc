import { type ReactNode, useEffect, useId, useRef, useState } from 'react';

/**
 * A button that opens a small panel under it (the runs table's column chooser and filter help).
 * Escape or a click outside closes it; closing with Escape gives the focus back to the button.
 */
export function RunsPopover({
  label,
  title,
  panelLabel,
  className = 'button',
  align = 'start',
  testId,
  children,
}: {
  label: ReactNode;
  title?: string;
  panelLabel: string;
  className?: string;
  align?: 'start' | 'end';
  testId?: string;
  children: (close: () => void) => ReactNode;
}) {
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const panelId = useId();

  useEffect(() => {
    if (!open) return undefined;
    const onPointerDown = (event: PointerEvent) => {
      if (root.current && event.target instanceof Node && !root.current.contains(event.target)) setOpen(false);
    };
    document.addEventListener('pointerdown', onPointerDown);
    return () => document.removeEventListener('pointerdown', onPointerDown);
  }, [open]);

  const close = () => {
    setOpen(false);
    button.current?.focus();
  };

  return (
    <div
      className="runs-popover"
      ref={root}
      onKeyDown={(event) => {
        if (event.key === 'Escape' && open) {
          event.preventDefault();
          event.stopPropagation();
          close();
        }
      }}
    >
      <button
        ref={button}
        type="button"
        className={className}
        aria-expanded={open}
        aria-controls={open ? panelId : undefined}
        title={title}
        data-testid={testId}
        onClick={() => setOpen((was) => !was)}
      >
        {label}
      </button>
      {open && (
        <div id={panelId} role="dialog" aria-label={panelLabel} className={`runs-popover-panel align-${align}`}>
          {children(close)}
        </div>
      )}
    </div>
  );
}
