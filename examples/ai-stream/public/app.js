/**
 * The ai-stream page. Plain browser JavaScript, no framework and no build step. The answer is kept
 * as an array indexed by token index and drawn as text (never as HTML), so redrawing it after a
 * resynchronisation is idempotent.
 *
 * For tests, the page records what arrived, raw and without any de-duplication:
 * `window.__tokens` (token indexes of the current answer, in arrival order), `window.__answerDone`
 * (the total announced by `done`, else null) and `window.__progress` (percentages of the current
 * task, in arrival order).
 *
 * `/client.js` is @wirehop/client bundled for browsers by the server (see src/bundle.ts).
 */
import { createClient } from '/client.js';
import { createCuttableNetwork } from '/network.js';

const WIREHOP_URL = new URL('/wirehop', location.href).href;
const TRANSPORTS = ['auto', 'websocket', 'sse'];
const CUT_MS = 3000;
/** Lines kept in the connection log. */
const MAX_LOG = 50;

const $ = (/** @type {string} */ id) => /** @type {any} */ (document.getElementById(id));
const ui = {
  badge: $('badge'),
  transport: $('transport'),
  cut: $('cut'),
  askForm: $('ask-form'),
  ask: $('ask'),
  answer: $('answer'),
  answerMeta: $('answer-meta'),
  runTask: $('run-task'),
  taskProgress: $('task-progress'),
  taskPercent: $('task-percent'),
  taskStep: $('task-step'),
  log: $('log'),
};

/** @type {number[]} */
window.__tokens = [];
/** @type {number | null} */
window.__answerDone = null;
/** @type {number[]} */
window.__progress = [];

// ---- connection -------------------------------------------------------------------------------

const choice = new URLSearchParams(location.search).get('transport') ?? 'auto';
const transport = TRANSPORTS.includes(choice) ? choice : 'auto';
ui.transport.value = transport;

const network = createCuttableNetwork();
const user = userId();
const client = createClient({
  url: WIREHOP_URL,
  auth: { user },
  // One entry forces that transport; without the option the client picks and switches by itself.
  ...(transport === 'auto' ? {} : { transports: [transport] }),
  WebSocket: network.WebSocket,
  fetch: network.fetch,
});
const answers = client.channel(`answers:${user}`);
const tasks = client.channel(`tasks:${user}`);

/** The answer on screen: its request id, tokens by index, and how many are drawn. */
const answer = { requestId: '', /** @type {string[]} */ tokens: [], drawn: 0, total: 0, done: false };
let taskId = '';

client.on('state', ({ from, to, reason }) => {
  log(`state ${from} → ${to}${reason ? ` (${reason})` : ''}`);
  renderBadge();
});
client.on('transport', ({ from, to, reason }) => {
  log(`transport ${from ?? '—'} → ${to ?? '—'} (${reason})`);
  renderBadge();
});
client.on('error', (error) => log(`error ${error.code}: ${error.message}`, true));
client.on('gap', clientOnGap);
// RTT changes without an event; a slow poll keeps the badge honest.
setInterval(renderBadge, 1000);

answers.on('token', answersOnToken);
answers.on('done', answersOnDone);
tasks.on('progress', tasksOnProgress);

Promise.all([answers.subscribe(), tasks.subscribe()]).then(
  () => {
    ui.ask.disabled = false;
    ui.runTask.disabled = false;
  },
  (error) => log(`could not subscribe: ${error.message}`, true),
);

/** One id per tab: a reload keeps it, another tab gets its own (and its own channels). */
function userId() {
  const key = 'wirehop-ai:user';
  let id = sessionStorage.getItem(key);
  if (!id) {
    id = randomId();
    sessionStorage.setItem(key, id);
  }
  return id;
}

/** 128 random bits as hex; works outside secure contexts too, unlike crypto.randomUUID. */
function randomId() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The session was lost (away longer than the server keeps it, or the server restarted): events
 * published meanwhile are gone, so fetch the answer so far. Tokens that arrive afterwards land on
 * their index, so overlapping with the refetch is harmless.
 */
function clientOnGap(gap) {
  log(`session lost (${gap.code}); fetching the answer so far`, true);
  if (!answer.requestId) return;
  const requestId = answer.requestId;
  answers
    .subscribe()
    .then(() => client.request('answer', { requestId }))
    .then((soFar) => {
      if (answer.requestId !== requestId) return;
      soFar.tokens.forEach((text, index) => (answer.tokens[index] ??= text));
      if (soFar.done) answer.done = true;
      renderAnswer();
    })
    .catch((error) => log(`could not fetch the answer: ${error.message}`, true));
}

// ---- answer -----------------------------------------------------------------------------------

async function ask() {
  const requestId = randomId();
  Object.assign(answer, { requestId, tokens: [], drawn: 0, total: 0, done: false });
  window.__tokens = [];
  window.__answerDone = null;
  ui.answer.replaceChildren();
  renderAnswer();
  try {
    // Queued if offline and sent once; the server generates per request id, exactly once.
    const result = await client.request('ask', { requestId });
    if (answer.requestId === requestId) answer.total = result.total;
    renderAnswer();
  } catch (error) {
    if (answer.requestId === requestId) ui.answerMeta.textContent = `not asked: ${error.message}`;
  }
}

function answersOnToken({ requestId, index, text }) {
  if (requestId !== answer.requestId) return; // an earlier answer still streaming
  window.__tokens.push(index);
  answer.tokens[index] ??= text;
  renderAnswer();
}

function answersOnDone({ requestId, total }) {
  if (requestId !== answer.requestId) return;
  window.__answerDone = total;
  answer.total = total;
  answer.done = true;
  renderAnswer();
}

/** Appends the tokens that are now contiguous with what is drawn: the typewriter. */
function renderAnswer() {
  let text = '';
  while (answer.tokens[answer.drawn] !== undefined) text += answer.tokens[answer.drawn++];
  if (text) ui.answer.append(text);
  ui.answer.dataset.state = answer.done ? 'done' : answer.requestId ? 'typing' : 'empty';
  if (!answer.requestId) return;
  const of = answer.total ? ` / ${answer.total}` : '';
  ui.answerMeta.textContent = answer.done
    ? `done: ${answer.drawn} tokens`
    : `${answer.drawn}${of} tokens${answer.drawn < answer.tokens.length ? ' (waiting for a missing one)' : ''}`;
}

// ---- long task --------------------------------------------------------------------------------

async function runTask() {
  taskId = randomId();
  window.__progress = [];
  renderTask(0, 'starting');
  try {
    await client.request('task', { taskId });
  } catch (error) {
    ui.taskStep.textContent = `not started: ${error.message}`;
  }
}

function tasksOnProgress({ taskId: id, percent, step }) {
  if (id !== taskId) return;
  window.__progress.push(percent);
  renderTask(percent, percent === 100 ? 'done' : step);
}

function renderTask(percent, step) {
  ui.taskProgress.value = percent;
  ui.taskPercent.textContent = `${percent} %`;
  ui.taskStep.textContent = step;
}

// ---- connection badge and log -----------------------------------------------------------------

function renderBadge() {
  const { rtt, reconnects } = client.stats;
  const parts = [client.state, client.transport ?? 'no transport'];
  if (typeof rtt === 'number') parts.push(`rtt ${Math.round(rtt)} ms`);
  parts.push(`${reconnects} reconnect${reconnects === 1 ? '' : 's'}`);
  const cutLeft = network.cutUntil - Date.now();
  if (cutLeft > 0) parts.push(`cut for ${Math.ceil(cutLeft / 1000)} s`);
  ui.badge.textContent = parts.join(' · ');
  ui.badge.dataset.state = client.state;
  ui.badge.dataset.transport = client.transport ?? '';
  ui.badge.dataset.reconnects = String(reconnects);
}

function log(text, error = false) {
  const item = document.createElement('li');
  if (error) item.className = 'error';
  const time = document.createElement('time');
  time.textContent = new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  item.append(time, text);
  ui.log.append(item);
  while (ui.log.childElementCount > MAX_LOG) ui.log.firstElementChild.remove();
  ui.log.scrollTop = ui.log.scrollHeight;
}

// ---- wiring -----------------------------------------------------------------------------------

ui.askForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void ask();
});
ui.runTask.addEventListener('click', () => void runTask());
ui.transport.addEventListener('change', () => {
  const url = new URL(location.href);
  url.searchParams.set('transport', ui.transport.value);
  location.assign(url);
});
ui.cut.addEventListener('click', () => {
  network.cut(CUT_MS);
  log(`connection cut for ${CUT_MS / 1000} s`);
  renderBadge();
  setTimeout(renderBadge, CUT_MS);
});
// Leaving the page ends the session now rather than after the server's session TTL; a page
// restored from the back/forward cache has a closed client, so it starts afresh.
addEventListener('pagehide', () => client.close());
addEventListener('pageshow', (event) => {
  if (event.persisted) location.reload();
});
renderBadge();
