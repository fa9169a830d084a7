import { fileURLToPath } from 'node:url';

/** Where the reliability runs leave their figures (not committed; docs/reliability.md holds a full run's). */
export const OUT_DIR = fileURLToPath(new URL('./out', import.meta.url));
