import { useEffect } from 'react';

/** Set the browser tab's title to `<page> · Ember` while the page is shown. */
export function useTitle(page: string | undefined): void {
  useEffect(() => {
    document.title = page ? `${page} · Ember` : 'Ember studio';
  }, [page]);
}
