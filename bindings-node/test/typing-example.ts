// Typed use of the package: `tsc --noEmit --strict` must pass on this file (npm run typecheck).
import { createClient, createCluster, RESP_TYPES, ResponseError, WatchError, type RedisClient, type RedisCluster } from '..';

export async function example(url: string): Promise<void> {
  const client: RedisClient = await createClient({ url, responseTimeout: 2000, RESP: 3 }).connect();
  const set: string | null = await client.set('k', 'v', { EX: 10, NX: true });
  const value: string | null = await client.get('k');
  const n: number = await client.incr('n');
  const user: Record<string, string> = await client.hGetAll('user:1');
  const top: Array<{ value: string; score: number }> = await client.zRangeWithScores('z', 0, -1);
  const popped = await client.blPop(['q'], 1);
  if (popped) console.log(popped.key, popped.element);
  const results: unknown[] = await client.multi().set('a', '1').incr('a').get('a').exec();
  for await (const keys of client.scanIterator({ MATCH: 'k*', COUNT: 100 })) console.log(keys.length);
  const raw = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  await raw.get(Buffer.from('k'));
  try {
    await client.lPush('k', 'x');
  } catch (e) {
    if (e instanceof ResponseError) console.log(e.redisCode);
    if (e instanceof WatchError) console.log('retry');
  }
  console.log(set, value, n, user, top, results, client.stats().requests);
  await client.close();
}

export async function clusterExample(): Promise<void> {
  const cluster: RedisCluster = await createCluster({
    rootNodes: [{ url: 'redis://10.0.0.1:7000' }, { socket: { host: '10.0.0.2', port: 7000 } }],
    defaults: { password: 'secret', socket: { tls: true } },
    useReplicas: true,
  }).connect();
  const v: string | null = await cluster.get('{user1}:name');
  const both: unknown[] = await cluster.multi().set('{user1}:a', '1').incr('{user1}:b').exec();
  console.log(v, both.length);
  await cluster.close();
}
