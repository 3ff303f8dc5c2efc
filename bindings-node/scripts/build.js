// Builds the native addon with the napi-rs CLI: a debug build for development and tests
// (`npm install` runs this through "prepare"), a release build for `npm pack`/publish
// or when called with --release.
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const release = process.argv.includes('--release') || ['pack', 'publish'].includes(process.env.npm_command);
const cli = path.join(__dirname, '..', 'node_modules', '.bin', 'napi');
const args = ['build', '--platform', '--js', 'binding.js', '--dts', 'binding.d.ts'];
if (release) args.push('--release');
execFileSync(cli, args, { stdio: 'inherit', cwd: path.join(__dirname, '..') });
