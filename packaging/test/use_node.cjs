// make test-dist: the installed package from CommonJS, and which addon it loaded.
const path = require('node:path');
const { createClient } = require('redbridge');

(async () => {
  const client = await createClient({ url: process.env.REDBRIDGE_TEST_URL }).connect();
  await client.set('dist:node', 'cjs');
  const [, value] = await Promise.all([client.incr('dist:node:n'), client.get('dist:node')]);
  if (value !== 'cjs') throw new Error(`get: ${value}`);
  await client.close();
  const addon = Object.keys(require.cache).find((f) => f.endsWith('.node'));
  if (!addon || !addon.includes(`${path.sep}redbridge-linux-x64-gnu${path.sep}`)) throw new Error(`addon loaded from ${addon}`);
  console.log(`require('redbridge'): ok (addon: ${path.relative(process.cwd(), addon)})`);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
