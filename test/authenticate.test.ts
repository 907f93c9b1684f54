/**
 * What `authenticate` sees of a new session's request (AuthContext), on both transports: the
 * request's headers and cookies, HELLO.auth, the transport and the peer address. Black-box: raw
 * WebSocket and fetch, so what is checked is what any client's request carries.
 */
import { PROTOCOL_VERSION } from '@wirehop/protocol';
import { createWirehop, type AuthContext, type ListeningServer, type Wirehop } from '@wirehop/server';
import { afterEach, describe, expect, it } from 'vitest';
import { rawHandshake, rawWs } from './helpers/raw.js';

let wh: Wirehop | undefined;
let listening: ListeningServer | undefined;
afterEach(async () => {
  await wh?.close();
  await listening?.close();
  wh = listening = undefined;
});

/** A server whose authenticate records what it read, then accepts. */
async function recording() {
  const seen: Array<Record<string, unknown>> = [];
  wh = createWirehop({
    onError: () => {},
    authenticate: (ctx: AuthContext) => {
      seen.push({ app: ctx.headers.get('x-app'), cookies: { ...ctx.cookies }, auth: ctx.auth, transport: ctx.transport, ip: ctx.ip });
      return { id: 'u' };
    },
  });
  listening = await wh.listen({ port: 0, hostname: '127.0.0.1' });
  return { url: listening.url, seen };
}

const HEADERS = { 'x-app': 'web 1.2', cookie: 'theme=dark; user=ada%20l; theme=light' };
const EXPECTED_COOKIES = { theme: 'dark', user: 'ada l' };

describe('authenticate(ctx)', () => {
  it('on WebSocket: the upgrade request\'s headers and cookies, HELLO.auth, transport and ip', async () => {
    const { url, seen } = await recording();
    const ws = await rawWs(url, { headers: HEADERS });
    ws.send({ type: 'hello', v: PROTOCOL_VERSION, auth: { token: 't-1' } });
    await ws.next('welcome');
    ws.ws.close();
    expect(seen).toEqual([{ app: 'web 1.2', cookies: EXPECTED_COOKIES, auth: { token: 't-1' }, transport: 'websocket', ip: '127.0.0.1' }]);
  });

  it('on SSE: the POST /session request\'s headers and cookies, HELLO.auth, transport and ip', async () => {
    const { url, seen } = await recording();
    const answer = await rawHandshake(url, [24, { v: PROTOCOL_VERSION, auth: { token: 't-2' } }], HEADERS);
    expect(answer.status).toBe(200);
    expect(seen).toEqual([{ app: 'web 1.2', cookies: EXPECTED_COOKIES, auth: { token: 't-2' }, transport: 'sse', ip: '127.0.0.1' }]);
  });

  it('a context kept by the hook still reads the request after the handshake', async () => {
    let kept: AuthContext | undefined;
    wh = createWirehop({ onError: () => {}, authenticate: (ctx) => ((kept = ctx), { id: 'u' }) });
    listening = await wh.listen({ port: 0, hostname: '127.0.0.1' });
    const ws = await rawWs(listening.url, { headers: HEADERS });
    ws.send({ type: 'hello', v: PROTOCOL_VERSION });
    await ws.next('welcome');
    ws.ws.close();
    expect(kept!.headers.get('x-app')).toBe('web 1.2');
    expect(kept!.cookies).toEqual(EXPECTED_COOKIES);
    expect({ ...kept! }).toMatchObject({ transport: 'websocket', auth: undefined });
  });
});
