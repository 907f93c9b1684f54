/**
 * test/helpers/node-process.ts: a server script in its own process starts with tsx and the source
 * condition, is crashed by pid, restarts on the same port as a fresh process, and stops gracefully.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startNode, type NodeProcess } from './node-process.js';
import { pidAlive } from './process.js';

const script = fileURLToPath(new URL('./fixtures/echo-node.ts', import.meta.url));
const started: NodeProcess[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((n) => n.stop()));
});

interface Answer {
  node: string | null;
  pid: number;
  port: number;
  served: number;
  source: string;
}
const ask = async (url: string): Promise<Answer> => (await fetch(url, { headers: { connection: 'close' } })).json() as Promise<Answer>;

describe('startNode', () => {
  it('starts the script on an ephemeral port, is killed by pid, and restarts on the same port', async () => {
    const node = await startNode({ script, env: { NODE_ID: 'n1' } });
    started.push(node);
    expect(node.url).toBe(`http://127.0.0.1:${node.port}`);
    const first = await ask(node.url);
    expect(first).toMatchObject({ node: 'n1', pid: node.pid, port: node.port, served: 1 });
    expect(first.source).toMatch(/\/packages\/protocol\/src\/index\.ts$/);
    expect((await ask(node.url)).served).toBe(2);

    const crashedPid = node.pid;
    expect(await node.kill()).toEqual({ code: null, signal: 'SIGKILL' });
    expect(pidAlive(crashedPid)).toBe(false);
    await expect(fetch(node.url)).rejects.toThrow();

    await node.restart();
    expect(node.pid).not.toBe(crashedPid);
    // A fresh process on the same port: its counter starts again.
    expect(await ask(node.url)).toMatchObject({ node: 'n1', pid: node.pid, port: first.port, served: 1 });

    expect(await node.stop()).toEqual({ code: 0, signal: null }); // graceful: the fixture exits 0 on SIGTERM
    expect(await node.stop()).toEqual({ code: 0, signal: null });
  });

  it('listens on a port it is given', async () => {
    const probe = await startNode({ script });
    const port = probe.port;
    await probe.stop();
    const node = await startNode({ script, port });
    started.push(node);
    expect(node.port).toBe(port);
    expect((await ask(node.url)).port).toBe(port);
  });

  it('rejects with the child\'s stderr when the script dies before it is ready', async () => {
    await expect(startNode({ script, port: -1 })).rejects.toThrow(/exited before it was ready[\s\S]*(ERR_SOCKET_BAD_PORT|RangeError)/);
  });
});
