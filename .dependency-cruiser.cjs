// Architecture rules of docs/ARCHITECTURE.md, checked on every `npm test`.
// A "unit" is a top folder of src/ or one of the named sub-folders of tracker/ and peer/.
const UNIT = '(?:tracker/(?:protocol|server|store|client)|peer/(?:wire|download|upload)|[^/]+)';
const PURE = ['^src/bencode/', '^src/tracker/protocol/', '^src/peer/wire/', '^src/peer/download/', '^src/peer/upload/'];
const IO_MODULES = '^(node:)?(fs|fs/promises|net|dgram|http|https|child_process|worker_threads|timers|cluster)$';

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'import-through-index',
      comment: 'another unit is imported through its index.ts, never its inner files',
      severity: 'error',
      from: { path: `^src/(${UNIT})/` },
      to: { path: '^src/', pathNot: [`^src/$1/`, `^src/${UNIT}/index\\.ts$`, '^src/util/'] },
    },
    {
      name: 'pure-layers-do-no-io',
      comment: 'codecs and policies take values and return values: no sockets, files, workers or timers',
      severity: 'error',
      from: { path: PURE },
      to: { dependencyTypes: ['core'], path: IO_MODULES },
    },
    {
      name: 'torrent-metainfo-is-pure',
      comment: 'only torrent/create* reads files (to hash them); parsing and magnets are pure',
      severity: 'error',
      from: { path: '^src/torrent/', pathNot: '^src/torrent/create' },
      to: { dependencyTypes: ['core'], path: IO_MODULES },
    },
    {
      name: 'bencode-is-a-leaf',
      severity: 'error',
      from: { path: '^src/bencode/' },
      to: { path: '^src/', pathNot: ['^src/bencode/', '^src/util/'] },
    },
    {
      name: 'ui-talks-only-to-the-api',
      severity: 'error',
      from: { path: '^src/ui/' },
      to: { path: '^src/', pathNot: '^src/ui/' },
    },
    {
      name: 'only-cli-imports-cli',
      severity: 'error',
      from: { pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
