/**
 * The server process of one trial: `node server-process.ts <stack>`. It builds the stack's server
 * half and serves the tasks the parent calls (start, broadcast, memory, close, …). It exits when
 * told, when the parent disappears, or after its lifetime cap.
 */
import { serveTasks } from './lib/rpc.js';
import { SERVER_TASKS } from './scenarios/index.js';
import { stackById } from './stacks/index.js';

const LIFETIME_MS = 15 * 60_000;

const server = stackById(process.argv[2] ?? '').server();
const env = { server };
serveTasks(
  Object.fromEntries(Object.entries(SERVER_TASKS).map(([name, task]) => [name, (args: never) => task(env, args)])),
  LIFETIME_MS,
  () => server.close().catch(() => undefined),
);
