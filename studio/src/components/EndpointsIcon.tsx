/** The sidebar's icon of online endpoints (a plug), drawn like the others in Icons.tsx; decorative. */
export const EndpointsIcon = () => (
  <svg
    viewBox="0 0 24 24"
    fill="none"
    stroke="currentColor"
    strokeWidth="1.8"
    strokeLinecap="round"
    strokeLinejoin="round"
    aria-hidden="true"
    focusable="false"
  >
    <path d="M9 3v4" />
    <path d="M15 3v4" />
    <path d="M6 7h12v3a6 6 0 0 1-12 0V7Z" />
    <path d="M12 16v5" />
  </svg>
);
