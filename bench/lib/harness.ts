/**
 * What the single-purpose harnesses (fanout-harness.ts, setup-harness.ts) share: their server half
 * runs in a child process of the same module, pinned as the bench pins its processes, and is raw
 * `ws` or wirehop with one channel `bench`, on 127.0.0.1.
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { createWirehop, type Wirehop } from '@wirehop/server';
import { WebSocketServer } from 'ws';

/**
 * Forks `module` with `args` as the server, pins it to core 0 and this process to core 1 (without
 * taskset both float, and the figures with them), and waits for the `{ url }` it sends.
 */
export async function forkPinnedServer(module: URL, args: string[]): Promise<{ server: ChildProcess; url: string }> {
  const server = fork(module, args, { execArgv: process.execArgv });
  spawnSync('taskset', ['-p', '-c', '0', String(server.pid)]);
  spawnSync('taskset', ['-p', '-c', '1', String(process.pid)]);
  const { url } = await new Promise<{ url: string }>((ok) => server.once('message', ok));
  return { server, url };
}

/** In the forked server: the server a harness measures against, listening, its URL sent to the parent. */
export async function serveRaw(): Promise<WebSocketServer> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  await new Promise<void>((ok) => http.listen(0, '127.0.0.1', ok));
  process.send!({ url: `ws://127.0.0.1:${(http.address() as { port: number }).port}` });
  return wss;
}

/** {@link serveRaw} for wirehop: default options, one channel `bench`. */
export async function serveWirehop(): Promise<Wirehop> {
  const wh = createWirehop({});
  wh.channel('bench');
  process.send!({ url: (await wh.listen({ port: 0, hostname: '127.0.0.1' })).url });
  return wh;
}
