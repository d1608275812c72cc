// Writes a .gz beside every compressible asset of the build, which the server sends to browsers that
// accept gzip (the app's JavaScript shrinks about 3x). Runs after `vite build`; honours EMBER_STUDIO_OUT.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, constants } from 'node:zlib';

const here = fileURLToPath(new URL('..', import.meta.url));
const out = process.env['EMBER_STUDIO_OUT'] || join(here, '../src/ember/server/studio_dist');
const assets = join(out, 'assets');
const compressible = /\.(js|css|svg|json|map|txt)$/;

let written = 0;
for (const name of readdirSync(assets)) {
  const path = join(assets, name);
  if (!compressible.test(name) || statSync(path).size < 1024) continue;
  writeFileSync(`${path}.gz`, gzipSync(readFileSync(path), { level: constants.Z_BEST_COMPRESSION }));
  written += 1;
}
console.log(`gzip-assets: ${written} file(s) in ${assets}`);
