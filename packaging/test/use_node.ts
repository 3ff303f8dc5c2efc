// make test-dist: the installed package from TypeScript, compiled with tsc --strict and run.
import { createClient, type RedisClient } from 'redbridge';

async function main(url: string): Promise<void> {
  const client: RedisClient = await createClient({ url }).connect();
  const set: string | null = await client.set('dist:ts', 'typed', { EX: 60 });
  const value: string | null = await client.get('dist:ts');
  const n: number = await client.incr('dist:ts:n');
  if (set !== 'OK' || value !== 'typed' || n < 1) throw new Error(`replies: ${set} ${value} ${n}`);
  await client.close();
  console.log('TypeScript (tsc --strict): ok');
}

main(process.env.REDBRIDGE_TEST_URL ?? 'redis://127.0.0.1:6379').catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
