/**
 * The chat on wirehop: who may connect (a nickname), what a room accepts (messages, stamped by the
 * server), presence per room, and two requests — `history` and `rooms`. No HTTP here; server.ts puts
 * this on a port next to the web page.
 */
import { randomUUID } from 'node:crypto';
import { createWirehop, WirehopError, type Wirehop } from '@wirehop/server';
import { RoomHistory, type ChatMessage } from './history.js';
import { isRoomName, LOBBY, parseMessage, parseNick, ROOM_PREFIX, roomOfChannel } from './rules.js';

/** A chat user: one per nickname, however many tabs use it (presence is per user). */
export type ChatUser = { id: string; info: { nick: string } };

/** One entry of the `rooms` request's answer. */
export interface RoomSummary {
  name: string;
  /** Users present in the room now. */
  members: number;
}

/**
 * Creates the chat's wirehop server (not yet listening).
 *
 * Clients connect with `auth: { nick }`, subscribe to `room:<name>` channels, publish
 * `message` `{ text }` there and receive `{ id, from, text, at }`. Requests:
 * - `history` `{ room }` → the room's last 50 {@link ChatMessage}s, oldest first;
 * - `rooms` → {@link RoomSummary}[]: the lobby, rooms with people in them and rooms with history.
 */
export function createChat(): Wirehop<ChatUser> {
  const history = new RoomHistory({ perRoom: 50, maxRooms: 1_000 });
  // Rooms someone subscribed to; pruned of empty, history-less rooms when listed, and re-checked
  // against presence every time, so it never has to see unsubscribes or session ends.
  const seen = new Set<string>([LOBBY]);

  const wh = createWirehop<ChatUser>({
    authenticate: ({ auth }) => {
      const nick = parseNick(auth);
      return { id: nick.toLowerCase(), info: { nick } };
    },
  });

  wh.channel(`${ROOM_PREFIX}*`, {
    presence: true,
    authorize: (_session, channel) => {
      if (roomOfChannel(channel) === undefined) {
        throw new WirehopError('forbidden', 'room names are 1–32 of a-z, 0-9, _ and -');
      }
      return true;
    },
    publish: (session, channel, event, data) => {
      const room = roomOfChannel(channel);
      const parsed = parseMessage(event, data);
      if (room === undefined || 'refused' in parsed) {
        throw new WirehopError('forbidden', 'refused' in parsed ? parsed.refused : 'not a room');
      }
      const message: ChatMessage = { id: randomUUID(), from: session.user.info.nick, text: parsed.text, at: Date.now() };
      history.add(room, message);
      return { data: message };
    },
  });

  wh.on('subscribe', (_session, channel) => {
    const room = roomOfChannel(channel);
    if (room === undefined) return;
    seen.add(room);
    if (seen.size > history.maxRooms) void memberCounts(seen).then((counts) => pruneEmpty(seen, counts));
  });

  wh.onRequest('history', (data) => {
    const room = requestedRoom(data);
    return history.recent(room);
  });

  wh.onRequest('rooms', async (): Promise<RoomSummary[]> => {
    for (const room of history.rooms()) seen.add(room);
    const counts = await memberCounts(seen);
    pruneEmpty(seen, counts);
    return [...seen]
      .map((name) => ({ name, members: counts.get(name) ?? 0 }))
      .sort((a, b) => rank(a) - rank(b) || b.members - a.members || a.name.localeCompare(b.name));
  });

  /** How many people are in each room (presence is per user, across every server node). */
  async function memberCounts(rooms: Set<string>): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const room of rooms) counts.set(room, (await wh.presence(ROOM_PREFIX + room)).length);
    return counts;
  }

  /** Forgets rooms that have nobody in them and nothing to show (the lobby always stays). */
  function pruneEmpty(rooms: Set<string>, counts: Map<string, number>): void {
    const withHistory = new Set(history.rooms());
    for (const room of rooms) {
      if (room !== LOBBY && !withHistory.has(room) && counts.get(room) === 0) {
        rooms.delete(room);
      }
    }
  }

  return wh;
}

/** The lobby sorts first. */
function rank(room: RoomSummary): number {
  return room.name === LOBBY ? 0 : 1;
}

/** The room of a `history` request: `{ room: 'lobby' }` (a `room:` prefix is tolerated). */
function requestedRoom(data: unknown): string {
  const raw = typeof data === 'object' && data !== null ? (data as { room?: unknown }).room : undefined;
  const room = typeof raw === 'string' && raw.startsWith(ROOM_PREFIX) ? raw.slice(ROOM_PREFIX.length) : raw;
  if (!isRoomName(room)) throw new WirehopError('bad_request', 'history needs { room: "<room name>" }');
  return room;
}
