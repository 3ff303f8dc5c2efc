// Builds the native addon with the napi-rs CLI into redbridge.<platform>.node beside
// package.json, where binding.js looks first: a debug build for development and tests
// (`npm install` in this directory runs this through "prepare"), a release build for
// `npm pack` from this directory or when called with --release. binding.js is written by
// hand (--no-js); the published packages are made by `make dist` (packaging/dist.sh),
// which builds the addon for glibc 2.17 and runs no script of this package.
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const release = process.argv.includes('--release') || ['pack', 'publish'].includes(process.env.npm_command);
const cli = path.join(__dirname, '..', 'node_modules', '.bin', 'napi');
const args = ['build', '--platform', '--no-js', '--dts', 'binding.d.ts'];
if (release) args.push('--release');
execFileSync(cli, args, { stdio: 'inherit', cwd: path.join(__dirname, '..') });
