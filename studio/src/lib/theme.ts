/**
 * Light and dark themes: the user's choice (saved in localStorage) or, until they choose, the
 * system's `prefers-color-scheme`. The effective theme is written to `<html data-theme>`, which
 * styles.css keys its colour variables on.
 */
import { useCallback, useEffect, useState } from 'react';

export type Theme = 'light' | 'dark';

export const THEME_STORAGE_KEY = 'ember.theme';
const DARK_QUERY = '(prefers-color-scheme: dark)';

function storedTheme(): Theme | null {
  try {
    const value = window.localStorage.getItem(THEME_STORAGE_KEY);
    return value === 'light' || value === 'dark' ? value : null;
  } catch {
    return null; // storage can be disabled; the system preference still applies
  }
}

function systemTheme(): Theme {
  return window.matchMedia(DARK_QUERY).matches ? 'dark' : 'light';
}

/** Apply the saved or system theme to the document; main.tsx calls it before the first render. */
export function applyInitialTheme(): Theme {
  const theme = storedTheme() ?? systemTheme();
  document.documentElement.dataset['theme'] = theme;
  return theme;
}

/** The effective theme and a toggle that saves the user's choice. */
export function useTheme(): { theme: Theme; toggle: () => void } {
  const [theme, setTheme] = useState<Theme>(() => storedTheme() ?? systemTheme());

  useEffect(() => {
    document.documentElement.dataset['theme'] = theme;
  }, [theme]);

  useEffect(() => {
    // Follow the system while the user has not chosen.
    const media = window.matchMedia(DARK_QUERY);
    const follow = (event: MediaQueryListEvent) => {
      if (storedTheme() === null) setTheme(event.matches ? 'dark' : 'light');
    };
    media.addEventListener('change', follow);
    return () => media.removeEventListener('change', follow);
  }, []);

  const toggle = useCallback(() => {
    setTheme((current) => {
      const next: Theme = current === 'dark' ? 'light' : 'dark';
      try {
        window.localStorage.setItem(THEME_STORAGE_KEY, next);
      } catch {
        // not saved; the toggle still works for this page
      }
      return next;
    });
  }, []);

  return { theme, toggle };
}
