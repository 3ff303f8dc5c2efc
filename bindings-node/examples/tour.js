'use strict';
// A short tour of redbridge for Node.js (make demo). Uses REDIS_URL.
const { createClient, TimeoutError } = require('..');

const url = process.env.REDIS_URL || 'redis://localhost:6379';
const ms = (t0) => `${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1)} ms`;

(async () => {
  process.on('warning', (w) => w.name === 'RedbridgeWarning' && console.log(`   warning -> ${w.message}`));
  console.log(`redbridge Node.js tour — ${url}\n`);
  const client = await createClient({ url }).connect();
  await client.set('jstour:greeting', 'hello');
  console.log('1. get ->', JSON.stringify(await client.get('jstour:greeting')));

  console.log('\n2. 10,000 GETs awaited together share one connection (auto-pipelined)');
  let t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: 10_000 }, () => client.get('jstour:greeting')));
  console.log(`   ${ms(t0)}`);
  t0 = process.hrtime.bigint();
  for (let i = 0; i < 1000; i++) await client.get('jstour:greeting');
  console.log(`   (1,000 awaited one by one: ${ms(t0)})`);

  console.log('\n3. An explicit pipeline of 10,000 SETs: multi().execAsPipeline()');
  const pipe = client.multi();
  for (let i = 0; i < 10_000; i++) pipe.set(`jstour:key:${i}`, String(i));
  t0 = process.hrtime.bigint();
  const replies = await pipe.execAsPipeline();
  console.log(`   ${replies.length} replies in ${ms(t0)}`);

  console.log('\n4. scanIterator pages through the keyspace; KEYS would block the server');
  let keys = 0;
  let pages = 0;
  for await (const batch of client.scanIterator({ MATCH: 'jstour:key:*', COUNT: 1000 })) {
    pages++;
    keys += batch.length;
  }
  console.log(`   ${keys} keys in ${pages} pages`);
  await client.keys('jstour:key:1*');
  await new Promise((r) => setImmediate(r));

  console.log('\n5. A BLPOP blocking for 1 s runs on a leased connection; GETs are not held up');
  const blocked = client.blPop('jstour:queue', 1);
  t0 = process.hrtime.bigint();
  await client.get('jstour:greeting');
  console.log(`   GET during the BLPOP: ${ms(t0)}; BLPOP -> ${JSON.stringify(await blocked)}`);

  console.log('\n6. Timeouts: responseTimeout 100 ms while the server sleeps 0.5 s');
  const impatient = await createClient({ url, responseTimeout: 100 }).connect();
  t0 = process.hrtime.bigint();
  try {
    await impatient.sendCommand(['DEBUG', 'SLEEP', '0.5']);
  } catch (e) {
    console.log(`   ${e instanceof TimeoutError ? 'TimeoutError' : e.name} after ${ms(t0)}: ${e.message}`);
  }
  await new Promise((r) => setTimeout(r, 450));
  console.log(`   the next command gets its own reply: ${JSON.stringify(await impatient.get('jstour:greeting'))}`);
  await impatient.close();

  for (let i = 0; i < 10_000; i += 1000) await client.unlink(Array.from({ length: 1000 }, (_, j) => `jstour:key:${i + j}`));
  await client.del('jstour:greeting');
  const s = client.stats();
  console.log(`\n7. Stats: ${s.requests} requests, ${s.retries} retries, ${s.errors_timeout} timeouts, pool size ${s.pool_size}`);
  await client.close();
})();
