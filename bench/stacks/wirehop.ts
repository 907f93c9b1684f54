/**
 * wirehop, through its public APIs only: a channel `bench` for broadcasts (wh.publish), and a
 * message handler that echoes each client message with session.send(). A client is ready once its
 * session is open and its subscription confirmed. Three modes: forced WebSocket, forced SSE+POST
 * (both with `adaptive: false`, so nothing moves them), and the default client.
 */
import { createClient, type ClientOptions } from '@wirehop/client';
import { createWirehop, type ListeningServer } from '@wirehop/server';
import type { BenchClient, BenchConnection, BenchServer, Stack } from './types.js';

const CHANNEL = 'bench';
const BROADCAST = 'b';
const ECHO = 'echo';

type Mode = 'websocket' | 'sse' | 'default';

function wirehopServer(): BenchServer {
  let errors = 0;
  const wh = createWirehop({
    onError: (error, where) => {
      if (errors++ < 5) console.error(`[wirehop server] ${where.phase}:`, error);
    },
  });
  wh.channel(CHANNEL);
  wh.onMessage(ECHO, (data, session) => session.send(ECHO, data));
  let listening: ListeningServer | undefined;
  return {
    async start(port) {
      listening = await wh.listen({ port, hostname: '127.0.0.1' });
      return listening.url;
    },
    broadcast(data) {
      wh.publish(CHANNEL, BROADCAST, data);
    },
    get connections() {
      return wh.sessionCount;
    },
    async close() {
      await listening?.close();
    },
  };
}

/** No `fetch`: the client's Node entry makes its HTTP requests with node:http, as an application's would. */
function clientOptions(mode: Mode, url: string): ClientOptions {
  return mode === 'default' ? { url } : { url, transports: [mode], adaptive: false };
}

function wirehopClient(mode: Mode): BenchClient {
  let errors = 0;
  return {
    get errors() {
      return errors;
    },
    async connect(url) {
      const client = createClient(clientOptions(mode, url));
      let listener: (data: string) => void = () => undefined;
      const channel = client.channel(CHANNEL);
      channel.on(BROADCAST, (data) => listener(data as string));
      client.on('message', (_event, data) => listener(data as string));
      client.on('gap', () => void errors++);
      const countError = () => void errors++;
      try {
        // As the README writes it: subscribe() alone, no connect() before it. The SUBSCRIBE goes
        // in the HELLO's message (a new SSE session's POST /session body), and its answer proves
        // the session open: one round trip and one client message fewer than connect() first.
        await channel.subscribe();
      } catch (error) {
        client.close();
        throw error;
      }
      return {
        send: (data) => void client.send(ECHO, data).catch(countError),
        onMessage: (l) => void (listener = l),
        close: () => client.close(),
        get transport() {
          return client.transport;
        },
        switchTransport: (to) => client.switchTransport(to),
      } satisfies BenchConnection;
    },
    async dispose() {},
  };
}

function wirehop(mode: Mode): Stack {
  return {
    id: mode === 'default' ? 'wirehop' : `wirehop-${mode === 'websocket' ? 'ws' : 'sse'}`,
    label: mode === 'default' ? 'wirehop default' : mode === 'websocket' ? 'wirehop ws' : 'wirehop SSE',
    description:
      mode === 'default'
        ? 'wirehop, default client (its own transport choice)'
        : `wirehop, transports: ['${mode}'], adaptive: false`,
    server: wirehopServer,
    client: () => wirehopClient(mode),
  };
}

export const wirehopWs = wirehop('websocket');
export const wirehopSse = wirehop('sse');
export const wirehopDefault = wirehop('default');
