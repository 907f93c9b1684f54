/**
 * The chat example (examples/chat) end to end: its real server on 127.0.0.1, and @wirehop/client in
 * Node as the browser page would use it — one client forced onto SSE, one onto WebSocket, so every
 * behaviour crosses transports.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  createClient,
  type Channel,
  type Member,
  type TransportName,
  type WirehopClient,
  type WirehopError,
} from '@wirehop/client';
import type { ChatMessage } from '../examples/chat/src/history.js';
import type { RoomSummary } from '../examples/chat/src/chat.js';
import { createChatServer, type ChatServer } from '../examples/chat/src/server.js';
import { nextEvent, waitFor } from './helpers/wait.js';

/** A client subscribed to room:lobby, with everything it saw recorded. */
interface Participant {
  client: WirehopClient;
  lobby: Channel;
  messages: ChatMessage[];
  joins: Member[];
  leaves: Member[];
}

let server: ChatServer | undefined;
const clients: WirehopClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await server?.close();
  server = undefined;
});

async function startServer(): Promise<ChatServer> {
  server = await createChatServer({ port: 0, hostname: '127.0.0.1' });
  return server;
}

function connect(nick: string, transport: TransportName): WirehopClient {
  const client = createClient({
    url: new URL('/wirehop', server!.url).href,
    auth: { nick },
    transports: [transport],
  });
  clients.push(client);
  return client;
}

async function joinLobby(nick: string, transport: TransportName): Promise<Participant> {
  const client = connect(nick, transport);
  const lobby = client.channel('room:lobby');
  const p: Participant = { client, lobby, messages: [], joins: [], leaves: [] };
  lobby.on('message', (data) => p.messages.push(data as ChatMessage));
  lobby.onPresence('join', (member) => p.joins.push(member));
  lobby.onPresence('leave', (member) => p.leaves.push(member));
  expect(await lobby.subscribe()).toEqual({ presence: true });
  expect(client.transport).toBe(transport);
  return p;
}

/** Ada on SSE, then Bob on WebSocket, both in the lobby, once Ada has seen Bob's join notice. */
async function adaAndBob(): Promise<{ ada: Participant; bob: Participant }> {
  await startServer();
  const ada = await joinLobby('Ada', 'sse');
  const bob = await joinLobby('Bob', 'websocket');
  await waitFor(() => ada.joins.some((m) => m.id === 'bob'), { what: 'Ada to see Bob join' });
  return { ada, bob };
}

const ids = (members: Member[]): string[] => members.map((m) => m.id).sort();

describe('chat example', () => {
  it.each(['websocket', 'sse'] as const)('refuses a bad nickname with unauthorized (%s)', async (transport) => {
    await startServer();
    for (const nick of ['', 'x'.repeat(25), 'no<script>', 'a:b']) {
      const client = connect(nick, transport);
      const [error] = await nextEvent((l: (e: WirehopError) => void) => client.on('error', l), {
        what: `refusal of ${JSON.stringify(nick)}`,
      });
      expect(error.code).toBe('unauthorized');
      expect(error.message).toMatch(/nickname must be/);
      expect(client.state).not.toBe('connected');
      client.close();
    }
  });

  it('accepts nicknames in any script, with spaces; the user id is the lower-cased nickname', async () => {
    const { ada } = await adaAndBob();
    const zoe = await joinLobby('  Zoë Ångström_2 ', 'websocket');
    await waitFor(() => ada.joins.some((m) => m.id === 'zoë ångström_2'), { what: 'Ada to see Zoë join' });
    expect(ada.joins.at(-1)).toEqual({ id: 'zoë ångström_2', info: { nick: 'Zoë Ångström_2' } });
    expect(ids(await zoe.lobby.presence())).toEqual(['ada', 'bob', 'zoë ångström_2']);
  });

  it('shows who is in a room and announces joins, across transports', async () => {
    const { ada, bob } = await adaAndBob();
    expect(ada.joins.find((m) => m.id === 'bob')).toEqual({ id: 'bob', info: { nick: 'Bob' } });
    expect(ids(await ada.lobby.presence())).toEqual(['ada', 'bob']);
    expect(ids(await bob.lobby.presence())).toEqual(['ada', 'bob']);
  });

  it('delivers messages both ways, stamped by the server', async () => {
    const { ada, bob } = await adaAndBob();
    await bob.lobby.publish('message', { text: 'hello from websocket' });
    await ada.lobby.publish('message', { text: 'hello from sse', from: 'Mallory', at: 0 });
    await waitFor(() => ada.messages.length === 2 && bob.messages.length === 2, { what: 'both messages on both sides' });

    for (const seen of [ada.messages, bob.messages]) {
      expect(seen.map((m) => [m.from, m.text])).toEqual([
        ['Bob', 'hello from websocket'],
        ['Ada', 'hello from sse'], // the payload's `from` is ignored: the sender is who logged in
      ]);
      for (const m of seen) {
        expect(typeof m.id).toBe('string');
        expect(typeof m.at).toBe('number');
        expect(m.at).toBeGreaterThan(0);
      }
    }
    expect(ada.messages).toEqual(bob.messages);
  });

  it('returns the history in order, bounded to the last 50', async () => {
    const { ada, bob } = await adaAndBob();
    for (let i = 1; i <= 3; i++) await ada.lobby.publish('message', { text: `early ${i}` });

    const history = (await bob.client.request('history', { room: 'lobby' })) as ChatMessage[];
    expect(history.map((m) => m.text)).toEqual(['early 1', 'early 2', 'early 3']);
    expect(history.every((m) => m.from === 'Ada')).toBe(true);

    // A newcomer that has not joined any room can read it too, and 'room:lobby' means the same.
    const carol = connect('Carol', 'sse');
    const sameHistory = (await carol.request('history', { room: 'room:lobby' })) as ChatMessage[];
    expect(sameHistory).toEqual(history);
    expect(await carol.request('history', { room: 'nobody-here' })).toEqual([]);
    await expect(carol.request('history', { room: 'Not A Room!' })).rejects.toMatchObject({ code: 'bad_request' });

    for (let i = 4; i <= 55; i++) await bob.lobby.publish('message', { text: `early ${i}` });
    const bounded = (await carol.request('history', { room: 'lobby' })) as ChatMessage[];
    expect(bounded.map((m) => m.text)).toEqual(Array.from({ length: 50 }, (_, i) => `early ${i + 6}`));
  });

  it('refuses empty, oversized and non-message publications with forbidden', async () => {
    const { ada, bob } = await adaAndBob();
    await expect(ada.lobby.publish('message', { text: '' })).rejects.toMatchObject({
      code: 'forbidden',
      message: 'message text must be 1–2000 characters',
    });
    await expect(ada.lobby.publish('message', { text: '   ' })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(bob.lobby.publish('message', { text: 'x'.repeat(2001) })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(bob.lobby.publish('message', { body: 'no text' })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(bob.lobby.publish('typing', { text: 'hi' })).rejects.toMatchObject({ code: 'forbidden' });

    // Delivery is in order, so once this one arrives we know none of the refused ones went out.
    await bob.lobby.publish('message', { text: 'x'.repeat(2000) });
    await waitFor(() => ada.messages.length > 0, { what: 'the accepted message' });
    expect(ada.messages.map((m) => m.text.length)).toEqual([2000]);
    expect(await ada.client.request('history', { room: 'lobby' })).toHaveLength(1);
  });

  it('refuses invalid room names', async () => {
    await startServer();
    const client = connect('Ada', 'websocket');
    await expect(client.channel('room:Has Spaces').subscribe()).rejects.toMatchObject({ code: 'forbidden' });
    await expect(client.channel('elsewhere').subscribe()).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('lists rooms with their member counts', async () => {
    const { ada } = await adaAndBob();
    await ada.client.channel('room:side').subscribe();
    const rooms = (await ada.client.request('rooms')) as RoomSummary[];
    expect(rooms).toEqual([
      { name: 'lobby', members: 2 },
      { name: 'side', members: 1 },
    ]);
  });

  it('serves the page and a browser-only client bundle', async () => {
    const { url } = await startServer();

    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('<title>wirehop chat</title>');
    expect(html).toContain('src="/app.js"');

    const app = await fetch(new URL('/app.js', url));
    expect(app.status).toBe(200);
    expect(await app.text()).toContain("from '/client.js'");

    const bundle = await fetch(new URL('/client.js', url));
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toMatch(/^text\/javascript/);
    const js = await bundle.text();
    expect(js).toMatch(/export\s*\{[^}]*\bcreateClient\b/);
    expect(js).not.toMatch(/["'`]node:/); // no node: imports (static, dynamic or require)
    // Markers of the `ws` package: its error codes, its browser stub, its server handshake.
    expect(js).not.toContain('WS_ERR_');
    expect(js).not.toContain('ws does not work in the browser');
    expect(js).not.toContain('Sec-WebSocket-Accept');

    expect((await fetch(new URL('/nope', url))).status).toBe(404);
  });

  it.each(['sse', 'websocket'] as const)('announces a leave when the %s client closes', async (transport) => {
    const { ada, bob } = await adaAndBob();
    const [leaving, staying] = transport === 'sse' ? [ada, bob] : [bob, ada];
    const left = nextEvent((l: (m: Member) => void) => staying.lobby.onPresence('leave', l), { what: 'the leave notice' });
    leaving.client.close();
    const [member] = await left;
    const gone = transport === 'sse' ? 'ada' : 'bob';
    expect(member.id).toBe(gone);
    expect(staying.leaves.map((m) => m.id)).toEqual([gone]);
    expect(ids(await staying.lobby.presence())).toEqual([transport === 'sse' ? 'bob' : 'ada']);
  });
});

describe('chat example: the simulated network', () => {
  it('serves the page through a netsim proxy whose presets the panel API switches', async () => {
    server = await createChatServer({ port: 0, hostname: '127.0.0.1', network: true });
    expect(server.networkUrl).toBeDefined();
    const control = new URL('/network', server.url).href;
    const info = await (await fetch(control)).json();
    expect(info).toMatchObject({ enabled: true, preset: 'good', directPort: server.port });
    expect(info.presets.map((p: { name: string }) => p.name)).toEqual(['good', 'slow', 'mobile', 'lossy', 'no-websocket', 'dead-websocket', 'offline']);

    // A client through the proxy: with the WebSocket upgrade stripped, a new session lands on SSE.
    expect((await fetch(control, { method: 'POST', body: 'no-websocket' })).status).toBe(200);
    const client = createClient({ url: new URL('/wirehop', server.networkUrl).href, auth: { nick: 'Cyd' } });
    clients.push(client);
    await client.connect();
    expect(client.transport).toBe('sse');
    // Offline cuts what is open and refuses the rest; Good heals it and the session resumes.
    const session = client.sessionId;
    expect((await fetch(control, { method: 'POST', body: 'offline' })).status).toBe(200);
    await waitFor(() => client.state === 'reconnecting', { what: 'the cut to be noticed' });
    expect((await fetch(control, { method: 'POST', body: 'good' })).status).toBe(200);
    await waitFor(() => client.state === 'connected', { what: 'the session to resume' });
    expect(client.sessionId).toBe(session);

    const bad = await fetch(control, { method: 'POST', body: 'wormhole' });
    expect(bad.status).toBe(400);
    expect((await (await fetch(control)).json()).preset).toBe('good');
    // The page is allowed to call the control API from the proxy's origin.
    expect((await fetch(control)).headers.get('access-control-allow-origin')).toBe('*');
  });

  it('is off unless asked for', async () => {
    server = await createChatServer({ port: 0, hostname: '127.0.0.1' });
    expect(server.networkUrl).toBeUndefined();
    expect(await (await fetch(new URL('/network', server.url))).json()).toEqual({ enabled: false });
  });
});
