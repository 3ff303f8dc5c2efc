// make test-dist: the installed package from an ES module.
import { createClient } from 'redbridge';

const client = await createClient({ url: process.env.REDBRIDGE_TEST_URL }).connect();
const value = await client.get('dist:node');
if (value !== 'cjs') throw new Error(`get: ${value}`);
await client.close();
console.log("import { createClient } from 'redbridge': ok");
