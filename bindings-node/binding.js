// Loads the native addon, in this order:
//   1. redbridge.<platform>.node beside this file: what `npm install` in a clone builds
//      (scripts/build.js), so a package built from source uses its own build;
//   2. the platform package redbridge-<platform>, which npm installs from the published
//      package's optionalDependencies (the one whose os/cpu/libc fit; packaging/npm).
// <platform> is napi-rs's name: linux-x64-gnu, linux-arm64-musl, darwin-arm64,
// win32-x64-msvc, ... When neither loads, the error names this platform, what was tried
// and why, and the platforms that have a prebuilt package.
// Written by hand (scripts/build.js passes --no-js to napi build) so that the message
// says what fits and what does not.
'use strict';

const path = require('node:path');
const fs = require('node:fs');
const pkg = require('./package.json');

const BINARY = 'redbridge';

// glibc or musl: glibc reports its version in the process report, musl has none.
function linuxLibc() {
  const report = process.report;
  if (report && typeof report.getReport === 'function') {
    const exclude = report.excludeNetwork;
    try {
      report.excludeNetwork = true;
      const header = report.getReport().header;
      return header && header.glibcVersionRuntime ? 'gnu' : 'musl';
    } catch {
      // fall through to the file check
    } finally {
      report.excludeNetwork = exclude;
    }
  }
  try {
    return fs.readFileSync('/usr/bin/ldd', 'latin1').includes('musl') ? 'musl' : 'gnu';
  } catch {
    return 'gnu';
  }
}

function platformName() {
  const { platform, arch } = process;
  if (platform === 'linux') {
    const libc = linuxLibc();
    return { name: `linux-${arch}-${arch === 'arm' ? `${libc}eabihf` : libc}`, libc };
  }
  if (platform === 'win32') return { name: `win32-${arch}-msvc`, libc: 'msvc' };
  return { name: `${platform}-${arch}`, libc: '' };
}

function load() {
  const { name, libc } = platformName();
  const tried = [];
  const local = path.join(__dirname, `${BINARY}.${name}.node`);
  if (fs.existsSync(local)) {
    try {
      return require(local);
    } catch (e) {
      tried.push(`${path.basename(local)} (built from source here) failed to load: ${e.message}`);
    }
  } else {
    tried.push(`${path.basename(local)}: not built here`);
  }
  const platformPackage = `${pkg.name}-${name}`;
  let installed = null;
  try {
    installed = require.resolve(`${platformPackage}/package.json`);
  } catch {
    tried.push(`${platformPackage}: not installed`);
  }
  if (installed) {
    const version = require(installed).version;
    if (version !== pkg.version) {
      tried.push(`${platformPackage}: version ${version} installed, ${pkg.name} ${pkg.version} needs the same version`);
    } else {
      try {
        return require(platformPackage);
      } catch (e) {
        tried.push(`${platformPackage} ${version} failed to load: ${e.message}`);
      }
    }
  }
  const prebuilt = Object.keys(pkg.optionalDependencies || {}).map((p) => p.slice(pkg.name.length + 1));
  let hint;
  if (!prebuilt.length) hint = 'This is a source checkout: `npm install` here builds the addon (needs cargo).';
  else if (!prebuilt.includes(name)) hint = `Prebuilt packages exist for ${prebuilt.join(', ')}; none fits this platform.`;
  else if (!installed) hint = `Install ${platformPackage}@${pkg.version} beside ${pkg.name} (npm does, unless optional dependencies are omitted).`;
  else hint = `${platformPackage} is the prebuilt package for this platform; the reason it did not load is above.`;
  const error = new Error(
    `${pkg.name}: no native addon loads on this platform, ${name} ` +
      `(process.platform ${process.platform}, process.arch ${process.arch}` +
      `${libc ? `, libc ${libc}` : ''}, Node ${process.versions.node}).\n` +
      `  Tried:\n    ${tried.join('\n    ')}\n` +
      `  ${hint}` +
      (prebuilt.length ? '\n  Or build it from source (needs cargo): `npm install` in bindings-node of a redbridge clone.' : ''),
  );
  error.code = 'ERR_REDBRIDGE_NO_ADDON';
  throw error;
}

module.exports = load();
