/**
 * highlight.js with only the languages the snapshot view needs (the full bundle is ~1 MB).
 * Its output is HTML of escaped text in `<span class="hljs-…">`; colours are in RunSnapshot.css.
 */
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import json from 'highlight.js/lib/languages/json';
import markdown from 'highlight.js/lib/languages/markdown';
import plaintext from 'highlight.js/lib/languages/plaintext';
import python from 'highlight.js/lib/languages/python';
import yaml from 'highlight.js/lib/languages/yaml';

hljs.registerLanguage('python', python);
hljs.registerLanguage('yaml', yaml);
hljs.registerLanguage('json', json);
hljs.registerLanguage('bash', bash);
hljs.registerLanguage('markdown', markdown);
hljs.registerLanguage('plaintext', plaintext);

/** Files longer than this are shown without colours (highlighting them would stall the page). */
const HIGHLIGHT_LIMIT_CHARS = 300_000;

/** The HTML of `code` highlighted as `language`, or null when it is too long to highlight. */
export function highlightCode(code: string, language: string): string | null {
  if (code.length > HIGHLIGHT_LIMIT_CHARS) return null;
  return hljs.highlight(code, { language, ignoreIllegals: true }).value;
}
