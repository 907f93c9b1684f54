/**
 * The client process of one trial: `node client-process.ts <stack>`. It builds the stack's client
 * half and serves the scenario tasks the parent calls. On exit it closes what it opened.
 */
import { serveTasks } from './lib/rpc.js';
import { closeAll } from './scenarios/common.js';
import { CLIENT_TASKS } from './scenarios/index.js';
import type { ClientEnv } from './scenarios/types.js';
import { stackById } from './stacks/index.js';

const LIFETIME_MS = 15 * 60_000;

const env: ClientEnv = { client: stackById(process.argv[2] ?? '').client(), connections: [] };
serveTasks(
  Object.fromEntries(Object.entries(CLIENT_TASKS).map(([name, task]) => [name, (args: never) => task(env, args)])),
  LIFETIME_MS,
  async () => {
    closeAll(env);
    await env.client.dispose().catch(() => undefined);
  },
);
