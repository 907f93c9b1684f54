/**
 * The chat page. Plain browser JavaScript, no framework and no build step: state lives in `chat`,
 * small render functions redraw the parts that changed. User text only ever reaches the page as
 * text (`append(string)`, `textContent`), never as HTML.
 *
 * `/client.js` is @wirehop/client bundled for browsers by the server (see src/bundle.ts).
 */
import { createClient } from '/client.js';
import { showNetworkPanel, watchConnection } from '/status.js';

const WIREHOP_URL = new URL('/wirehop', location.href).href;
const LOBBY = 'lobby';
/** Same rule as the server's (src/rules.ts); the server has the last word. */
const ROOM_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
/** Lines kept per room in the page; older ones scroll away for good. */
const MAX_ITEMS = 500;
const STORAGE = { nick: 'wirehop-chat:nick', transport: 'wirehop-chat:transport' };

/**
 * @typedef {{ id: string, info?: { nick?: string } }} Member
 * @typedef {{ id: string, from: string, text: string, at: number }} ChatMessage
 * @typedef {{ kind: 'message', at: number, message: ChatMessage }
 *         | { kind: 'notice', at: number, text: string, error?: boolean }} Item
 * @typedef {{ name: string, channel: any, offs: Array<() => void>, items: Item[],
 *             ids: Set<string>, members: Map<string, Member>, unread: number }} Room
 */

const chat = {
  /** @type {any} the WirehopClient, or null while signed out */
  client: null,
  nick: '',
  /** @type {Map<string, Room>} joined rooms, in the order they were joined */
  rooms: new Map(),
  /** @type {string | null} */
  active: null,
  /** @type {Array<() => void>} client listeners to remove on sign-out */
  offs: [],
  /** @type {Array<{ name: string, members: number }>} answer of the last `rooms` request */
  directory: [],
  statusTimer: 0,
  directoryTimer: 0,
};

const $ = (/** @type {string} */ id) => /** @type {any} */ (document.getElementById(id));
const ui = {
  status: $('status'),
  transport: $('transport'),
  whoami: $('whoami'),
  logout: $('logout'),
  login: $('login'),
  loginForm: $('login-form'),
  nick: $('nick'),
  loginError: $('login-error'),
  chat: $('chat'),
  joined: $('joined'),
  joinForm: $('join-form'),
  roomName: $('room-name'),
  allRooms: $('all-rooms'),
  refreshRooms: $('refresh-rooms'),
  roomTitle: $('room-title'),
  leave: $('leave'),
  messages: $('messages'),
  sendForm: $('send-form'),
  text: $('text'),
  members: $('members'),
};

// ---- connection -------------------------------------------------------------------------------

/** Creates a client for the current nickname and transport choice, and joins `roomNames`. */
function connect(roomNames, active = roomNames[0] ?? null) {
  const choice = ui.transport.value;
  const client = createClient({
    url: WIREHOP_URL,
    auth: { nick: chat.nick },
    // One entry forces that transport; without the option the client tries WebSocket, then SSE.
    ...(choice === 'auto' ? {} : { transports: [choice] }),
  });
  chat.client = client;
  chat.offs = [
    client.on('state', renderStatus),
    client.on('transport', renderStatus),
    client.on('error', clientOnError),
    client.on('gap', clientOnGap),
    watchConnection(client),
  ];
  // RTT changes without an event; a slow poll keeps the status line honest.
  chat.statusTimer = setInterval(renderStatus, 1000);
  chat.directoryTimer = setInterval(refreshDirectory, 15_000);
  showChat(true);
  for (const name of roomNames) void joinRoom(name);
  activate(active);
  renderStatus();
  void refreshDirectory();
}

/**
 * Closes the client and forgets every room (listeners included). Closing ends the session on the
 * server at once (WebSocket close 1000, or DELETE /session on SSE), so the others see "left" now.
 */
function disconnect() {
  for (const room of chat.rooms.values()) for (const off of room.offs) off();
  for (const off of chat.offs) off();
  clearInterval(chat.statusTimer);
  clearInterval(chat.directoryTimer);
  chat.offs = [];
  chat.rooms.clear();
  chat.active = null;
  chat.client?.close();
  chat.client = null;
}

/** Back to the nickname form, with `reason` shown there. */
function signOut(reason = '') {
  disconnect();
  showChat(false);
  ui.loginError.textContent = reason;
  renderStatus();
  ui.nick.focus();
}

function clientOnError(error) {
  // A refused nickname will be refused again: stop and say why. Other errors are transport
  // trouble that the client retries by itself; the status line shows the state meanwhile.
  if (error.code === 'unauthorized') signOut(error.message);
}

/** The session was lost (server restart, long outage): reload what we may have missed. */
function clientOnGap(gap) {
  for (const room of chat.rooms.values()) {
    addNotice(room, `connection lost (${gap.code}); reloading the room`, true);
    // The client re-subscribes by itself in the new session; waiting for that (subscribe() is
    // idempotent) makes sure presence() is asked of a channel we are in again.
    room.channel.subscribe().then(
      () => loadRoom(room),
      (error) => addNotice(room, `could not rejoin: ${error.message}`, true),
    );
  }
}

// ---- rooms ------------------------------------------------------------------------------------

/** Subscribes to `room:<name>` (or just shows it if already joined), then loads presence and history. */
async function joinRoom(name) {
  const client = chat.client;
  if (!client) return;
  if (chat.rooms.has(name)) return activate(name);
  const channel = client.channel(`room:${name}`);
  /** @type {Room} */
  const room = { name, channel, offs: [], items: [], ids: new Set(), members: new Map(), unread: 0 };
  room.offs.push(
    channel.on('message', (message) => addMessage(room, message)),
    channel.onPresence('join', (member) => memberJoined(room, member)),
    channel.onPresence('leave', (member) => memberLeft(room, member)),
  );
  chat.rooms.set(name, room);
  activate(name);
  try {
    await channel.subscribe();
  } catch (error) {
    if (chat.rooms.get(name) !== room) return;
    dropRoom(room);
    showJoinError(`cannot join ${name}: ${error.message}`);
    activate(firstRoom());
    return;
  }
  await loadRoom(room);
  void refreshDirectory();
}

function leaveRoom(name) {
  const room = chat.rooms.get(name);
  if (!room) return;
  dropRoom(room);
  room.channel.unsubscribe().catch(() => {}); // the page has already moved on
  activate(firstRoom());
  void refreshDirectory();
}

function dropRoom(room) {
  for (const off of room.offs) off();
  chat.rooms.delete(room.name);
}

function firstRoom() {
  return chat.rooms.keys().next().value ?? null;
}

/** Who is here, and the last messages (merged with what arrived meanwhile, without duplicates). */
async function loadRoom(room) {
  const client = chat.client;
  let members;
  let history;
  try {
    [members, history] = await Promise.all([
      room.channel.presence(),
      client.request('history', { room: room.name }),
    ]);
  } catch (error) {
    if (chat.rooms.get(room.name) === room) addNotice(room, `could not load the room: ${error.message}`, true);
    return;
  }
  if (chat.rooms.get(room.name) !== room) return;
  room.members = new Map(members.map((member) => [member.id, member]));
  const older = history.filter((m) => isMessage(m) && !room.ids.has(m.id));
  for (const message of older) room.ids.add(message.id);
  room.items = [...older.map((message) => ({ kind: 'message', at: message.at, message })), ...room.items];
  // History can land after live lines (or fill a gap between them): keep the list in time order.
  room.items.sort((a, b) => a.at - b.at);
  trim(room);
  if (room.name === chat.active) renderRoom();
}

function addMessage(room, message) {
  if (!isMessage(message) || room.ids.has(message.id)) return;
  room.ids.add(message.id);
  addItem(room, { kind: 'message', at: message.at, message });
}

function addNotice(room, text, error = false) {
  addItem(room, { kind: 'notice', at: Date.now(), text, error });
}

function addItem(room, item) {
  room.items.push(item);
  trim(room);
  if (room.name === chat.active) {
    appendLine(item);
  } else if (item.kind === 'message') {
    room.unread += 1;
    renderJoined();
  }
}

function trim(room) {
  if (room.items.length <= MAX_ITEMS) return;
  room.items.splice(0, room.items.length - MAX_ITEMS);
  room.ids = new Set(room.items.flatMap((item) => (item.kind === 'message' ? [item.message.id] : [])));
}

function memberJoined(room, member) {
  const known = room.members.has(member.id);
  room.members.set(member.id, member);
  if (!known) addNotice(room, `${nickOf(member)} joined`);
  if (room.name === chat.active) renderMembers();
  scheduleDirectory();
}

function memberLeft(room, member) {
  if (!room.members.delete(member.id)) return;
  addNotice(room, `${nickOf(member)} left`);
  if (room.name === chat.active) renderMembers();
  scheduleDirectory();
}

async function refreshDirectory() {
  const client = chat.client;
  if (!client) return;
  try {
    const rooms = await client.request('rooms');
    if (chat.client !== client) return;
    chat.directory = Array.isArray(rooms) ? rooms : [];
    renderDirectory();
  } catch {
    // Offline or closing: the next refresh will do.
  }
}

let directoryPending = 0;
/** Presence changes come in bursts (a tab opening joins every room); refresh the list once. */
function scheduleDirectory() {
  clearTimeout(directoryPending);
  directoryPending = setTimeout(refreshDirectory, 500);
}

// ---- rendering --------------------------------------------------------------------------------

/**
 * Creates an element. Strings among `children` become text nodes, so user text is never parsed as
 * HTML; `props` are element properties (`className`, `type`, …) or `on<event>` listeners.
 */
function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, String(value));
  }
  node.append(...children.filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

function showChat(signedIn) {
  ui.login.hidden = signedIn;
  ui.chat.hidden = !signedIn;
  ui.logout.hidden = !signedIn;
  ui.whoami.hidden = !signedIn;
  ui.whoami.textContent = chat.nick;
}

function activate(name) {
  chat.active = name && chat.rooms.has(name) ? name : null;
  const room = chat.active ? chat.rooms.get(chat.active) : undefined;
  if (room) room.unread = 0;
  renderJoined();
  renderRoom();
  if (room) ui.text.focus();
}

function renderStatus() {
  const client = chat.client;
  if (!client) {
    ui.status.textContent = 'not connected';
    ui.status.dataset.state = 'idle';
    return;
  }
  const rtt = client.stats?.rtt;
  const parts = [client.state, client.transport ?? 'no transport'];
  if (typeof rtt === 'number') parts.push(`rtt ${Math.round(rtt)} ms`);
  ui.status.textContent = parts.join(' · ');
  ui.status.dataset.state = client.state;
}

function renderJoined() {
  ui.joined.replaceChildren(
    ...[...chat.rooms.values()].map((room) =>
      h(
        'li',
        {},
        h(
          'button',
          { type: 'button', onclick: () => activate(room.name), 'aria-current': String(room.name === chat.active) },
          `# ${room.name}`,
          room.unread > 0 ? h('span', { className: 'unread' }, String(room.unread)) : null,
        ),
      ),
    ),
  );
}

function renderDirectory() {
  ui.allRooms.replaceChildren(
    ...chat.directory.map((entry) =>
      h(
        'li',
        {},
        h(
          'button',
          { type: 'button', onclick: () => void joinRoom(entry.name), title: `join ${entry.name}` },
          `# ${entry.name}`,
          h('span', { className: 'badge' }, `${entry.members} online`),
        ),
      ),
    ),
  );
}

function renderRoom() {
  const room = chat.active ? chat.rooms.get(chat.active) : undefined;
  ui.roomTitle.textContent = room ? `# ${room.name}` : 'no room — join one on the left';
  ui.leave.disabled = !room;
  ui.text.disabled = !room;
  ui.messages.replaceChildren(...(room ? room.items.map(lineFor) : []));
  ui.messages.scrollTop = ui.messages.scrollHeight;
  renderMembers();
}

function renderMembers() {
  const room = chat.active ? chat.rooms.get(chat.active) : undefined;
  const nicks = room ? [...room.members.values()].map(nickOf).sort((a, b) => a.localeCompare(b)) : [];
  ui.members.replaceChildren(...nicks.map((nick) => h('li', {}, nick)));
}

/** Appends one line, following the conversation only if the reader was already at the bottom. */
function appendLine(item) {
  const list = ui.messages;
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.append(lineFor(item));
  while (list.childElementCount > MAX_ITEMS) list.firstElementChild.remove();
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function lineFor(item) {
  const time = new Date(item.at);
  const stamp = h('time', { dateTime: time.toISOString() }, time.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }));
  if (item.kind === 'notice') {
    return h('li', { className: item.error ? 'notice error' : 'notice' }, stamp, item.text);
  }
  return h('li', {}, stamp, h('span', { className: 'from' }, item.message.from), item.message.text);
}

function showJoinError(text) {
  ui.roomName.setCustomValidity(text);
  ui.roomName.reportValidity();
}

// ---- helpers ----------------------------------------------------------------------------------

function nickOf(member) {
  return typeof member.info?.nick === 'string' ? member.info.nick : member.id;
}

function isMessage(value) {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof value.id === 'string' &&
    typeof value.from === 'string' &&
    typeof value.text === 'string' &&
    typeof value.at === 'number'
  );
}

/** "My Room" → "my-room": the name people type, as the server accepts it. */
function roomNameFrom(input) {
  return input.trim().toLowerCase().replace(/\s+/g, '-');
}

// ---- wiring -----------------------------------------------------------------------------------

void showNetworkPanel();
ui.nick.value = localStorage.getItem(STORAGE.nick) ?? '';
ui.transport.value = localStorage.getItem(STORAGE.transport) ?? 'auto';

ui.loginForm.addEventListener('submit', (event) => {
  event.preventDefault();
  chat.nick = ui.nick.value.trim();
  ui.loginError.textContent = '';
  localStorage.setItem(STORAGE.nick, chat.nick);
  connect([LOBBY]);
});

ui.logout.addEventListener('click', () => signOut());

ui.transport.addEventListener('change', () => {
  localStorage.setItem(STORAGE.transport, ui.transport.value);
  if (!chat.client) return;
  // A new client with the new `transports`: same nickname, same rooms; history reloads on join.
  const rooms = [...chat.rooms.keys()];
  const active = chat.active;
  disconnect();
  connect(rooms, active);
});

ui.joinForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const name = roomNameFrom(ui.roomName.value);
  if (!ROOM_NAME.test(name)) {
    showJoinError('room names are 1–32 of a-z, 0-9, _ and - (spaces become -)');
    return;
  }
  ui.roomName.value = '';
  void joinRoom(name);
});
ui.roomName.addEventListener('input', () => ui.roomName.setCustomValidity(''));

ui.refreshRooms.addEventListener('click', () => void refreshDirectory());
ui.leave.addEventListener('click', () => chat.active && leaveRoom(chat.active));

ui.sendForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const room = chat.active ? chat.rooms.get(chat.active) : undefined;
  const text = ui.text.value;
  if (!room || text.trim() === '') return;
  ui.text.value = '';
  try {
    // The message shows up when the server's stamped copy comes back on the channel.
    await room.channel.publish('message', { text });
  } catch (error) {
    if (chat.rooms.get(room.name) === room) addNotice(room, `not sent: ${error.message}`, true);
    if (ui.text.value === '') ui.text.value = text;
  }
});

// Leaving the page (closing the tab, navigating away) ends the session now rather than after the
// server's session TTL; a page restored from the back/forward cache reconnects where it was.
/** @type {{ rooms: string[], active: string | null } | null} */
let suspended = null;
addEventListener('pagehide', () => {
  if (!chat.client) return;
  suspended = { rooms: [...chat.rooms.keys()], active: chat.active };
  disconnect();
});
addEventListener('pageshow', (event) => {
  if (!event.persisted || !suspended) return;
  const { rooms, active } = suspended;
  suspended = null;
  connect(rooms, active);
});
