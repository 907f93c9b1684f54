/**
 * The streaming "assistant" on wirehop: who may connect (a user id the page picks), the two
 * per-user channels, and the requests that start an answer or a long task. No HTTP here; server.ts
 * puts this on a port next to the web page.
 *
 * The one rule that makes resumption work: generation belongs to a request id, never to a
 * connection or a session. Tokens go out with `wh.publish`; a client that is away meanwhile gets
 * them from its session's replay buffer when it resumes, so nothing here reacts to reconnects.
 */
import { createWirehop, WirehopError, type Wirehop } from '@wirehop/server';
import { ANSWER_TOKENS, stepAt } from './answer.js';
import { Jobs, type JobRefusal } from './jobs.js';

/** A user: the id the page chose (kept in its sessionStorage), the same for every session of that tab. */
export type AiUser = { id: string };

/** Channel of the answers to a user's questions: `token` and `done` events. */
export const ANSWERS_PREFIX = 'answers:';
/** Channel of a user's long tasks: `progress` events. */
export const TASKS_PREFIX = 'tasks:';

/** `token` on `answers:<user>`: one piece of the answer; `index` runs 0…total-1 without gaps. */
export interface TokenEvent {
  requestId: string;
  index: number;
  text: string;
}
/** `done` on `answers:<user>`: the answer is complete. */
export interface AnswerDoneEvent {
  requestId: string;
  total: number;
}
/** `progress` on `tasks:<user>`: `percent` runs 0…100, one event per percent. */
export interface ProgressEvent {
  taskId: string;
  percent: number;
  step: string;
}

/** Answer of the `ask` request. `started` is false when this request id was already asked. */
export interface AskResult {
  requestId: string;
  total: number;
  started: boolean;
}
/** Answer of the `answer` request: the tokens generated so far, to redraw after a gap. */
export interface AnswerSoFar {
  requestId: string;
  tokens: string[];
  total: number;
  done: boolean;
}
/** Answer of the `task` request. */
export interface TaskResult {
  taskId: string;
  started: boolean;
}

export interface AiStreamOptions {
  /** Time between two tokens of an answer, ms. Default 40. */
  tokenIntervalMs?: number;
  /** Time between two progress events (one per percent), ms. Default 60 (about 6 s per task). */
  progressIntervalMs?: number;
}

/** Counters for tests and logs. */
export interface AiStreamStats {
  /** `ask` requests handled, including repeats of a request id. */
  asks: number;
  /** Answers actually generated: one per distinct request id. */
  answersStarted: number;
  /** Tokens published, over all answers. */
  tokensPublished: number;
  /** Long tasks actually run: one per distinct task id. */
  tasksStarted: number;
  /** Answers and tasks running now. */
  running: number;
}

export interface AiStream {
  wh: Wirehop<AiUser>;
  stats(): AiStreamStats;
  /** Stops every running answer and task; `wh.close()` is the caller's. */
  stop(): void;
}

/** User, request and task ids: what a `crypto.randomUUID()` or a short slug looks like. */
const ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Creates the assistant's wirehop server (not yet listening).
 *
 * Clients connect with `auth: { user }`, subscribe to `answers:<user>` and `tasks:<user>` (their
 * own only), then request:
 * - `ask` `{ requestId }` → {@link AskResult}; the answer streams as {@link TokenEvent}s then one
 *   {@link AnswerDoneEvent}. Asking again with the same id starts nothing.
 * - `answer` `{ requestId }` → {@link AnswerSoFar}.
 * - `task` `{ taskId }` → {@link TaskResult}; progress streams as {@link ProgressEvent}s.
 */
export function createAiStream({ tokenIntervalMs = 40, progressIntervalMs = 60 }: AiStreamOptions = {}): AiStream {
  const onError = (error: unknown) => console.error('ai-stream:', error);
  const answers = new Jobs({ intervalMs: tokenIntervalMs, onError });
  const tasks = new Jobs({ intervalMs: progressIntervalMs, onError });
  let asks = 0;
  let tokensPublished = 0;

  const wh = createWirehop<AiUser>({
    authenticate: ({ auth }) => ({ id: idOf(auth, 'user', 'unauthorized') }),
  });

  // Each user reads only their own streams; nobody publishes but the server.
  const ownChannel = (prefix: string) => ({
    authorize: (session: { user: AiUser }, channel: string) => {
      if (channel !== prefix + session.user.id) throw new WirehopError('forbidden', `only ${prefix}<your user id> is yours`);
      return true;
    },
  });
  wh.channel(`${ANSWERS_PREFIX}*`, ownChannel(ANSWERS_PREFIX));
  wh.channel(`${TASKS_PREFIX}*`, ownChannel(TASKS_PREFIX));

  wh.onRequest('ask', (data, session): AskResult => {
    asks++;
    const requestId = idOf(data, 'requestId', 'bad_request');
    const user = session.user.id;
    const channel = ANSWERS_PREFIX + user;
    const outcome = answers.start(`${user}/${requestId}`, {
      owner: user,
      count: ANSWER_TOKENS.length,
      step: (index) => {
        const event: TokenEvent = { requestId, index, text: ANSWER_TOKENS[index]! };
        wh.publish(channel, 'token', event);
        tokensPublished++;
      },
      done: () => {
        const event: AnswerDoneEvent = { requestId, total: ANSWER_TOKENS.length };
        wh.publish(channel, 'done', event);
      },
    });
    if ('refused' in outcome) throw refusal(outcome.refused, 'answers');
    return { requestId, total: outcome.job.count, started: outcome.started };
  });

  wh.onRequest('answer', (data, session): AnswerSoFar => {
    const requestId = idOf(data, 'requestId', 'bad_request');
    const job = answers.get(`${session.user.id}/${requestId}`);
    if (!job) throw new WirehopError('not_found', `no answer with request id ${requestId}`);
    return { requestId, tokens: ANSWER_TOKENS.slice(0, job.emitted), total: job.count, done: job.finished };
  });

  wh.onRequest('task', (data, session): TaskResult => {
    const taskId = idOf(data, 'taskId', 'bad_request');
    const user = session.user.id;
    const channel = TASKS_PREFIX + user;
    const outcome = tasks.start(`${user}/${taskId}`, {
      owner: user,
      count: 101, // 0 % … 100 %
      step: (percent) => {
        const event: ProgressEvent = { taskId, percent, step: stepAt(percent) };
        wh.publish(channel, 'progress', event);
      },
    });
    if ('refused' in outcome) throw refusal(outcome.refused, 'tasks');
    return { taskId, started: outcome.started };
  });

  return {
    wh,
    stats: () => ({
      asks,
      answersStarted: answers.started,
      tokensPublished,
      tasksStarted: tasks.started,
      running: answers.running + tasks.running,
    }),
    stop() {
      answers.close();
      tasks.close();
    },
  };
}

/** `record[key]` if it is a valid id, else a WirehopError with `code` that says what is expected. */
function idOf(record: unknown, key: string, code: 'unauthorized' | 'bad_request'): string {
  const value = typeof record === 'object' && record !== null ? (record as Record<string, unknown>)[key] : undefined;
  if (typeof value !== 'string' || !ID.test(value)) {
    throw new WirehopError(code, `${key} must be 1–64 of A-Z, a-z, 0-9, _ and -`);
  }
  return value;
}

function refusal(reason: JobRefusal, what: string): WirehopError {
  if (reason === 'closed') return new WirehopError('server_closing', 'the server is shutting down');
  return new WirehopError('busy', reason === 'owner_busy' ? `you already have the most ${what} running at once; wait for one to finish` : `the server is running the most ${what} it may; try again soon`);
}
