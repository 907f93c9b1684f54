/**
 * The ai-stream example (examples/ai-stream) from Node: its real server on 127.0.0.1 and
 * @wirehop/client as the page uses it, on each transport. What the example promises: an answer is
 * generated once per request id, whoever asks again and however often the connection drops; its
 * tokens arrive numbered 0…N-1, exactly once and in order, also across a cut; the long task reports
 * 0–100 % with step labels. The browser version of the cut is test/browser/ai-stream.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type Channel, type TransportName, type WirehopClient, type WirehopError } from '@wirehop/client';
import { startProxy, type NetsimProxy } from '@wirehop/netsim';
import type { AnswerDoneEvent, AnswerSoFar, AskResult, ProgressEvent, TaskResult, TokenEvent } from '../examples/ai-stream/src/ai.js';
import { ANSWER_TEXT, ANSWER_TOKENS, stepAt, TASK_STEPS, tokenize } from '../examples/ai-stream/src/answer.js';
import { Jobs } from '../examples/ai-stream/src/jobs.js';
import { createAiStreamServer, type AiStreamServer, type AiStreamServerOptions } from '../examples/ai-stream/src/server.js';
import { audit, exactly } from './helpers/streams.js';
import { nextEvent, waitFor } from './helpers/wait.js';

const N = ANSWER_TOKENS.length;
const TRANSPORTS = ['websocket', 'sse'] as const;

let server: AiStreamServer | undefined;
const clients: WirehopClient[] = [];
const proxies: NetsimProxy[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const proxy of proxies.splice(0)) await proxy.close();
  await server?.close();
  server = undefined;
});

/** Fast by default: 316 tokens at 2 ms is under a second. */
async function startServer(options: AiStreamServerOptions = {}): Promise<AiStreamServer> {
  server = await createAiStreamServer({ port: 0, hostname: '127.0.0.1', tokenIntervalMs: 2, progressIntervalMs: 2, ...options });
  return server;
}

/** A client of `user`, subscribed to both of its channels, with everything it received recorded. */
interface Reader {
  client: WirehopClient;
  answers: Channel;
  tokens: TokenEvent[];
  done: AnswerDoneEvent[];
  progress: ProgressEvent[];
}

async function reader(user: string, transport: TransportName, url = new URL('/wirehop', server!.url).href): Promise<Reader> {
  const client = createClient({ url, auth: { user }, transports: [transport] });
  clients.push(client);
  const answers = client.channel(`answers:${user}`);
  const tasks = client.channel(`tasks:${user}`);
  const r: Reader = { client, answers, tokens: [], done: [], progress: [] };
  answers.on('token', (e) => r.tokens.push(e as TokenEvent));
  answers.on('done', (e) => r.done.push(e as AnswerDoneEvent));
  tasks.on('progress', (e) => r.progress.push(e as ProgressEvent));
  await Promise.all([answers.subscribe(), tasks.subscribe()]);
  expect(client.transport).toBe(transport);
  return r;
}

const ask = (r: Reader, requestId: string) => r.client.request('ask', { requestId }) as Promise<AskResult>;
const indexes = (r: Reader) => r.tokens.map((t) => t.index);

describe('ai-stream: the canned answer', () => {
  it('tokenizes into words and sub-words that join back into the text', () => {
    expect(tokenize('Hello, world')).toEqual(['Hello', ',', ' world']);
    expect(tokenize(' generates')).toEqual([' genera', 'tes']);
    expect(tokenize('')).toEqual([]);
    expect(ANSWER_TOKENS.join('')).toBe(ANSWER_TEXT);
    expect(N).toBeGreaterThan(200); // "a few hundred tokens"
    expect(N).toBeLessThan(500);
  });

  it('labels every percentage with one of the steps, in step order', () => {
    const labels = Array.from({ length: 101 }, (_, p) => stepAt(p));
    expect(labels[0]).toBe(TASK_STEPS[0]);
    expect(labels[100]).toBe(TASK_STEPS.at(-1));
    expect([...new Set(labels)]).toEqual(TASK_STEPS);
  });
});

describe('ai-stream: jobs', () => {
  it('runs a key once, paced, and refuses beyond its limits', async () => {
    const jobs = new Jobs({ intervalMs: 1, maxRunning: 2, maxRunningPerOwner: 1, maxFinished: 1 });
    const steps: string[] = [];
    const spec = (owner: string, key: string) => ({ owner, count: 3, step: (i: number) => steps.push(`${key}${i}`) });
    expect(jobs.start('a', spec('ann', 'a'))).toMatchObject({ started: true });
    expect(jobs.start('a', spec('ann', 'a'))).toMatchObject({ started: false });
    expect(jobs.start('a2', spec('ann', 'a2'))).toEqual({ refused: 'owner_busy' });
    expect(jobs.start('b', spec('bob', 'b'))).toMatchObject({ started: true });
    expect(jobs.start('c', spec('cyd', 'c'))).toEqual({ refused: 'busy' });
    expect(() => jobs.start('z', { owner: 'zed', count: 0, step: () => {} })).toThrow(RangeError);
    await waitFor(() => jobs.running === 0, { what: 'both jobs to finish' });
    expect(steps.filter((s) => s.startsWith('a'))).toEqual(['a0', 'a1', 'a2']);
    expect(steps.filter((s) => s.startsWith('b'))).toEqual(['b0', 'b1', 'b2']);
    expect(jobs.started).toBe(2);
    // maxFinished 1: the older finished job is forgotten, the newer one still recognised.
    expect(jobs.get('a')).toBeUndefined();
    expect(jobs.get('b')).toMatchObject({ emitted: 3, finished: true });
    jobs.close();
    expect(jobs.start('d', spec('dan', 'd'))).toEqual({ refused: 'closed' });
  });

  it('keeps going when a step throws, and reports the error', async () => {
    const errors: unknown[] = [];
    const jobs = new Jobs({ intervalMs: 0, onError: (e) => errors.push(e) });
    const seen: number[] = [];
    jobs.start('k', {
      owner: 'o',
      count: 3,
      step: (i) => {
        seen.push(i);
        if (i === 1) throw new Error('boom');
      },
    });
    await waitFor(() => jobs.get('k')?.finished, { what: 'the job to finish' });
    expect(seen).toEqual([0, 1, 2]);
    expect(errors).toHaveLength(1);
    expect(jobs.running).toBe(0);
  });

  it('rejects bad options at construction', () => {
    expect(() => new Jobs({ intervalMs: -1 })).toThrow(/intervalMs/);
    expect(() => new Jobs({ intervalMs: 10, maxRunningPerOwner: 0 })).toThrow(/maxRunningPerOwner/);
  });
});

describe('ai-stream example', () => {
  it.each(TRANSPORTS)('streams the answer as tokens 0…N-1 in order, then done (%s)', async (transport) => {
    await startServer();
    const r = await reader('ada', transport);
    expect(await ask(r, 'q1')).toEqual({ requestId: 'q1', total: N, started: true });
    await waitFor(() => r.done.length > 0, { what: 'the done event' });
    expect(indexes(r)).toEqual(Array.from({ length: N }, (_, i) => i));
    expect(r.tokens.map((t) => t.text).join('')).toBe(ANSWER_TEXT);
    expect(r.tokens.every((t) => t.requestId === 'q1')).toBe(true);
    expect(r.done).toEqual([{ requestId: 'q1', total: N }]);
    expect(server!.stats()).toMatchObject({ asks: 1, answersStarted: 1, tokensPublished: N, running: 0 });
  });

  it('generates once per request id, whoever asks again and from whichever session', async () => {
    await startServer({ tokenIntervalMs: 5 });
    const tab1 = await reader('ada', 'websocket');
    const tab2 = await reader('ada', 'sse'); // the same user in another session
    const first = await ask(tab1, 'same');
    const again = await ask(tab1, 'same');
    const elsewhere = await ask(tab2, 'same');
    expect([first.started, again.started, elsewhere.started]).toEqual([true, false, false]);
    await waitFor(() => tab1.done.length > 0 && tab2.done.length > 0, { what: 'the answer in both sessions' });
    // One stream, fanned out to both sessions: each sees every token once.
    expect(audit(indexes(tab1), N)).toEqual(exactly(N));
    expect(audit(indexes(tab2), N)).toEqual(exactly(N));
    expect(server!.stats()).toMatchObject({ asks: 3, answersStarted: 1, tokensPublished: N });
    // Asked after it finished: still recognised, still not regenerated.
    expect(await ask(tab2, 'same')).toMatchObject({ started: false, total: N });
    expect(server!.stats().answersStarted).toBe(1);
  });

  it.each(TRANSPORTS)('resumes at the next token after a cut, without regenerating (%s)', async (transport) => {
    await startServer({ tokenIntervalMs: 10 });
    const proxy = await startProxy({ target: { port: server!.port } });
    proxies.push(proxy);
    const r = await reader('ada', transport, `${proxy.url}/wirehop`);
    await ask(r, 'cut');
    await waitFor(() => r.tokens.length >= 40, { what: 'the first 40 tokens' });

    // Down: open connections destroyed, new ones refused; the server keeps generating meanwhile.
    proxy.set({ refuse: true });
    proxy.cutAll();
    await waitFor(() => r.client.state === 'reconnecting', { what: 'the client to notice the cut' });
    const atCut = server!.stats().tokensPublished;
    await waitFor(() => server!.stats().tokensPublished >= atCut + 30, { what: '30 tokens published while the client is away' });
    expect(r.tokens.length).toBeLessThan(N);

    proxy.heal();
    await waitFor(() => r.done.length > 0, { timeoutMs: 30_000, what: 'the rest of the answer after the cut' });
    expect(audit(indexes(r), N)).toEqual(exactly(N));
    expect(indexes(r)).toEqual(Array.from({ length: N }, (_, i) => i));
    expect(r.client.stats.reconnects).toBeGreaterThanOrEqual(1);
    expect(server!.stats()).toMatchObject({ asks: 1, answersStarted: 1, tokensPublished: N });
  }, 60_000);

  it.each(TRANSPORTS)('reports a long task from 0 to 100 %% with step labels (%s)', async (transport) => {
    await startServer();
    const r = await reader('ada', transport);
    expect((await r.client.request('task', { taskId: 't1' })) as TaskResult).toEqual({ taskId: 't1', started: true });
    await waitFor(() => r.progress.at(-1)?.percent === 100, { what: 'the task to reach 100 %' });
    expect(r.progress.map((p) => p.percent)).toEqual(Array.from({ length: 101 }, (_, i) => i));
    expect(r.progress.map((p) => p.step)).toEqual(r.progress.map((p) => stepAt(p.percent)));
    expect(r.progress.every((p) => p.taskId === 't1')).toBe(true);
    expect(await r.client.request('task', { taskId: 't1' })).toEqual({ taskId: 't1', started: false });
    expect(server!.stats().tasksStarted).toBe(1);
  });

  it('answers "the answer so far" for redrawing after a gap', async () => {
    await startServer({ tokenIntervalMs: 10 });
    const r = await reader('ada', 'websocket');
    await ask(r, 'q');
    await waitFor(() => r.tokens.length >= 10, { what: 'some tokens' });
    const partial = (await r.client.request('answer', { requestId: 'q' })) as AnswerSoFar;
    expect(partial.done).toBe(false);
    expect(partial.total).toBe(N);
    expect(partial.tokens).toEqual(ANSWER_TOKENS.slice(0, partial.tokens.length));
    expect(partial.tokens.length).toBeGreaterThanOrEqual(10);
    await waitFor(() => r.done.length > 0, { what: 'the end of the answer' });
    expect(await r.client.request('answer', { requestId: 'q' })).toEqual({ requestId: 'q', tokens: [...ANSWER_TOKENS], total: N, done: true });
    await expect(r.client.request('answer', { requestId: 'never' })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('keeps users apart: own channels only, request ids per user, validated ids', async () => {
    await startServer();
    const ada = await reader('ada', 'websocket');
    const bob = await reader('bob', 'sse');
    await expect(ada.client.channel('answers:bob').subscribe()).rejects.toMatchObject({ code: 'forbidden' });
    await expect(ada.client.channel('tasks:bob').subscribe()).rejects.toMatchObject({ code: 'forbidden' });
    await expect(ada.client.channel('elsewhere').subscribe()).rejects.toMatchObject({ code: 'forbidden' });
    // The same request id from two users is two answers, each on its own user's channel.
    expect((await ask(ada, 'x')).started).toBe(true);
    expect((await ask(bob, 'x')).started).toBe(true);
    await waitFor(() => ada.done.length > 0 && bob.done.length > 0, { what: 'both answers' });
    expect(audit(indexes(ada), N)).toEqual(exactly(N));
    expect(audit(indexes(bob), N)).toEqual(exactly(N));
    expect(server!.stats().answersStarted).toBe(2);
    for (const bad of [undefined, {}, { requestId: '' }, { requestId: 'a/b' }, { requestId: 'x'.repeat(65) }]) {
      await expect(ada.client.request('ask', bad)).rejects.toMatchObject({ code: 'bad_request' });
    }
  });

  it('refuses a third answer while a user already has two running', async () => {
    await startServer({ tokenIntervalMs: 50 });
    const r = await reader('ada', 'websocket');
    await ask(r, 'one');
    await ask(r, 'two');
    await expect(ask(r, 'three')).rejects.toMatchObject({ code: 'busy' });
    expect(server!.stats()).toMatchObject({ answersStarted: 2, running: 2 });
  });

  it.each(TRANSPORTS)('refuses a missing or malformed user id with unauthorized (%s)', async (transport) => {
    await startServer();
    const refused: Array<Record<string, string> | null> = [null, { user: '' }, { user: 'has space' }, { name: 'ada' }];
    for (const auth of refused) {
      const client = createClient({ url: new URL('/wirehop', server!.url).href, auth, transports: [transport] });
      clients.push(client);
      const [error] = await nextEvent((l: (e: WirehopError) => void) => client.on('error', l), { what: `refusal of ${JSON.stringify(auth)}` });
      expect(error.code).toBe('unauthorized');
      client.close();
    }
  });

  it('serves the page, its scripts and a browser-only client bundle', async () => {
    const { url } = await startServer();
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await page.text();
    expect(html).toContain('<title>wirehop ai-stream</title>');
    expect(html).toContain('src="/app.js"');

    const app = await (await fetch(new URL('/app.js', url))).text();
    expect(app).toContain("from '/client.js'");
    expect(app).toContain('window.__tokens');
    expect(await (await fetch(new URL('/network.js', url))).text()).toContain('export function createCuttableNetwork');
    expect((await fetch(new URL('/style.css', url))).headers.get('content-type')).toMatch(/^text\/css/);

    const js = await (await fetch(new URL('/client.js', url))).text();
    expect(js).toMatch(/export\s*\{[^}]*\bcreateClient\b/);
    expect(js).not.toMatch(/["'`]node:/);
    expect((await fetch(new URL('/nope', url))).status).toBe(404);
  });

  it('stops generating on close', async () => {
    await startServer({ tokenIntervalMs: 20 });
    const r = await reader('ada', 'websocket');
    await ask(r, 'q');
    await waitFor(() => r.tokens.length > 0, { what: 'the first token' });
    await server!.close();
    const published = server!.stats().tokensPublished;
    expect(published).toBeLessThan(N);
    // A negative check needs a window: ten token intervals in which a live timer would have fired.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(server!.stats().tokensPublished).toBe(published);
  });
});
