'use strict';
// Test support: a throwaway redis-server from the shared harness, stopped by PID.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const HARNESS = path.join(__dirname, '..', '..', 'tests', 'harness', 'redis_server.py');

function startServer(...extra) {
  const args = [HARNESS, 'start'];
  if (extra.length) args.push('--', ...extra);
  return JSON.parse(execFileSync('python3', args, { encoding: 'utf8' }));
}

/** A TLS-only server; the result carries its CA, a client cert/key and an untrusted CA. */
function startTlsServer(...extra) {
  const args = [HARNESS, 'start', '--tls'];
  if (extra.length) args.push('--', ...extra);
  return JSON.parse(execFileSync('python3', args, { encoding: 'utf8' }));
}

/** A server on `port` again (after stopServer): a restart, as a client sees one. */
function startServerOn(port) {
  return JSON.parse(execFileSync('python3', [HARNESS, 'start', '--port', String(port)], { encoding: 'utf8' }));
}

/** A Sentinel deployment: a primary, two replicas, three sentinels (service "mymaster"). */
function startSentinel(...flags) {
  return JSON.parse(execFileSync('python3', [HARNESS, 'sentinel', ...flags], { encoding: 'utf8' }));
}

/** Stops every process of a deployment or cluster started by the harness. */
function stopAll(info) {
  for (const pidfile of (info && info.pidfiles) || []) execFileSync('python3', [HARNESS, 'stop', pidfile]);
}

function stopServer(info) {
  if (info && info.pidfile) execFileSync('python3', [HARNESS, 'stop', info.pidfile]);
}

/** The shared server of a test file: REDBRIDGE_TEST_URL, or a throwaway one. */
function sharedServer(t) {
  if (process.env.REDBRIDGE_TEST_URL) return { url: process.env.REDBRIDGE_TEST_URL };
  const info = startServer();
  t.after(() => stopServer(info));
  return info;
}

module.exports = { startServer, startServerOn, startTlsServer, stopServer, sharedServer, startSentinel, stopAll };
