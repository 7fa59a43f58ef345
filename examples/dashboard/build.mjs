// Bundles the dashboard into dist/ (npm run bundle; npm run build runs
// codegen and the type check first). esbuild writes one script and one
// stylesheet named by their content hash; this script then writes
// dist/index.html from src/index.html with those names and their
// Subresource Integrity digests, and dist/SOURCES.sha256: the digest of every
// input of the build, which the Go test TestDashboardBuildCurrent compares
// with the files as they are, so a change to schema.graphql or to the
// dashboard's sources that was not rebuilt fails `make test` even where
// Node is not installed.
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';

const dist = 'dist';
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist);

const result = await esbuild.build({
  entryPoints: ['src/main.ts'],
  bundle: true,
  minify: true,
  format: 'iife',
  // Browsers of the last few years; the page uses fetch, WebSocket, <meter>
  // and CSS custom properties.
  target: ['chrome109', 'firefox115', 'safari16'],
  outdir: dist,
  entryNames: 'dashboard-[hash]',
  loader: { '.graphql': 'text' },
  charset: 'utf8',
  legalComments: 'eof',
  metafile: true,
  logLevel: 'warning',
});

const sri = (file) => 'sha384-' + createHash('sha384').update(readFileSync(file)).digest('base64');
const outputs = Object.keys(result.metafile.outputs).map((f) => basename(f));
const js = outputs.find((f) => f.endsWith('.js'));
const css = outputs.find((f) => f.endsWith('.css'));
if (!js || !css) throw new Error(`build.mjs: expected a .js and a .css output, got ${outputs.join(', ')}`);

const page = readFileSync('src/index.html', 'utf8')
  .replace('<!-- stylesheet -->', `<link rel="stylesheet" href="${css}" integrity="${sri(join(dist, css))}" crossorigin="anonymous">`)
  .replace('<!-- script -->', `<script src="${js}" integrity="${sri(join(dist, js))}" crossorigin="anonymous" defer></script>`);
if (page.includes('<!-- stylesheet -->') || page.includes('<!-- script -->') || !page.includes(js) || !page.includes(css)) {
  throw new Error('build.mjs: src/index.html must hold <!-- stylesheet --> and <!-- script --> once each');
}
writeFileSync(join(dist, 'index.html'), page);

// The build's inputs: the schema, this directory's sources and
// configuration, and the pinned packages. sha256sum's format, sorted.
const files = (dir) => readdirSync(dir).flatMap((name) => {
  const p = join(dir, name);
  return statSync(p).isDirectory() ? files(p) : [p];
});
const inputs = ['../../schema.graphql', 'package.json', 'package-lock.json', 'codegen.yml', 'tsconfig.json', 'build.mjs', ...files('src')]
  .map((f) => relative('.', f).split('\\').join('/'))
  .sort();
const sum = (f) => createHash('sha256').update(readFileSync(f)).digest('hex');
writeFileSync(join(dist, 'SOURCES.sha256'), inputs.map((f) => `${sum(f)}  ${f}\n`).join(''));

console.log(`build.mjs: dist/index.html, ${js}, ${css}`);
