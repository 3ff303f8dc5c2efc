// Stages the npm packages of `make dist` (packaging/dist.sh packs them), the napi-rs way:
//   <out>/main      the package users install: bindings-node's JS and types, no addon, no
//                   scripts (installing it builds nothing), and optionalDependencies naming
//                   one platform package per target in bindings-node/package.json's
//                   napi.targets, each at this very version;
//   <out>/platform  the platform package of the addon given (--addon, built for --target):
//                   redbridge-<platform> from platform.package.json and platform.README.md,
//                   with the os/cpu/libc fields that let npm skip it where it does not fit.
// usage: node packaging/npm/stage.js --addon PATH --target TRIPLE --built-for TEXT --out DIR
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
for (const k of ['addon', 'target', 'built-for', 'out']) {
  if (!args[k]) throw new Error(`stage.js: --${k} is missing`);
}

const ROOT = path.join(__dirname, '..', '..');
const SRC = path.join(ROOT, 'bindings-node');
const pkg = JSON.parse(fs.readFileSync(path.join(SRC, 'package.json'), 'utf8'));
const binary = pkg.napi.binaryName;

// A Rust target triple as napi-rs names its platform packages (and binding.js looks them up).
const CPU = { x86_64: 'x64', aarch64: 'arm64', i686: 'ia32', armv7: 'arm', riscv64gc: 'riscv64', powerpc64le: 'ppc64', s390x: 's390x', loongarch64: 'loong64' };
function platformOf(triple) {
  const parts = triple.split('-');
  const cpu = CPU[parts[0]];
  const abi = parts[parts.length - 1];
  if (cpu && parts.includes('linux')) {
    return { name: `linux-${cpu}-${abi}`, os: 'linux', cpu, libc: abi.startsWith('musl') ? 'musl' : 'glibc' };
  }
  if (cpu && parts.includes('darwin')) return { name: `darwin-${cpu}`, os: 'darwin', cpu };
  if (cpu && parts.includes('windows') && abi === 'msvc') return { name: `win32-${cpu}-msvc`, os: 'win32', cpu };
  if (cpu && parts.includes('freebsd')) return { name: `freebsd-${cpu}`, os: 'freebsd', cpu };
  throw new Error(`stage.js: no napi-rs platform name for the target ${triple}`);
}

const targets = pkg.napi.targets.map(platformOf);
const built = platformOf(args.target);
if (!targets.some((t) => t.name === built.name)) {
  throw new Error(`stage.js: ${args.target} is not in bindings-node/package.json napi.targets`);
}

const out = path.resolve(args.out);
fs.rmSync(out, { recursive: true, force: true });

// The main package.
const main = path.join(out, 'main');
fs.mkdirSync(main, { recursive: true });
const files = pkg.files.filter((f) => !f.includes('*')); // *.node: the addon lives in the platform packages
for (const f of files) fs.copyFileSync(path.join(SRC, f), path.join(main, f));
const mainJson = {
  name: pkg.name,
  version: pkg.version,
  description: pkg.description,
  license: pkg.license,
  main: pkg.main,
  types: pkg.types,
  files,
  engines: pkg.engines,
  optionalDependencies: Object.fromEntries(targets.map((t) => [`${pkg.name}-${t.name}`, pkg.version])),
};
fs.writeFileSync(path.join(main, 'package.json'), `${JSON.stringify(mainJson, null, 2)}\n`);

// The platform package of the addon built here.
const platform = path.join(out, 'platform');
fs.mkdirSync(platform, { recursive: true });
const fill = (text) =>
  text
    .replaceAll('@NAME@', `${pkg.name}-${built.name}`)
    .replaceAll('@MAIN@', pkg.name)
    .replaceAll('@VERSION@', pkg.version)
    .replaceAll('@PLATFORM@', built.name)
    .replaceAll('@BINARY@', binary)
    .replaceAll('@BUILT_FOR@', args['built-for'])
    .replaceAll('@LICENSE@', pkg.license)
    .replaceAll('@OS@', built.os)
    .replaceAll('@CPU@', built.cpu)
    .replaceAll('@LIBC@', built.libc || '')
    .replaceAll('@ENGINES_NODE@', pkg.engines.node);
const platformJson = JSON.parse(fill(fs.readFileSync(path.join(__dirname, 'platform.package.json'), 'utf8')));
if (!built.libc) delete platformJson.libc;
fs.writeFileSync(path.join(platform, 'package.json'), `${JSON.stringify(platformJson, null, 2)}\n`);
fs.writeFileSync(path.join(platform, 'README.md'), fill(fs.readFileSync(path.join(__dirname, 'platform.README.md'), 'utf8')));
fs.copyFileSync(args.addon, path.join(platform, `${binary}.${built.name}.node`));
console.log(`staged ${mainJson.name}@${mainJson.version} (optionalDependencies: ${Object.keys(mainJson.optionalDependencies).join(', ')}) and ${platformJson.name}@${platformJson.version}`);
