/**
 * What the chat accepts from clients: nicknames, room names and message texts. Pure functions, so
 * the wirehop hooks in chat.ts stay short and every rule lives in one place.
 */
import { WirehopError } from '@wirehop/server';

/** Longest nickname, in characters. */
export const MAX_NICK_LENGTH = 24;
/** Longest message text, in UTF-16 code units (what a browser's `maxlength` counts). */
export const MAX_TEXT_LENGTH = 2000;
/** Longest room name, in characters. */
export const MAX_ROOM_LENGTH = 32;
/** The room every client joins first. */
export const LOBBY = 'lobby';
/** Channel names are `room:<name>`; see {@link roomOfChannel}. */
export const ROOM_PREFIX = 'room:';

// Letters and digits of any script, plus `_`, `-` and spaces. The length is counted in code points
// (the `u` flag), so a nickname in a non-Latin script gets the same 24 characters.
const NICK = new RegExp(`^[\\p{L}\\p{N}_\\- ]{1,${MAX_NICK_LENGTH}}$`, 'u');
// Lower-case so that "Lobby" and "lobby" are the same room; no `:` so a name maps to one channel.
const ROOM = new RegExp(`^[a-z0-9][a-z0-9_-]{0,${MAX_ROOM_LENGTH - 1}}$`);

/**
 * The nickname in a HELLO's `auth` (`{ nick }`), trimmed.
 * @throws WirehopError('unauthorized') when it is missing or not 1–24 letters, digits, `_`, `-` or spaces.
 */
export function parseNick(auth: unknown): string {
  const nick = isRecord(auth) && typeof auth.nick === 'string' ? auth.nick.trim() : '';
  if (!NICK.test(nick)) {
    throw new WirehopError(
      'unauthorized',
      `nickname must be 1–${MAX_NICK_LENGTH} letters, digits, spaces, _ or -`,
    );
  }
  return nick;
}

/** Is `name` a valid room name (1–32 of `a-z 0-9 _ -`, starting with a letter or digit)? */
export function isRoomName(name: unknown): name is string {
  return typeof name === 'string' && ROOM.test(name);
}

/** The room name of a `room:<name>` channel, or undefined when the name is not a valid room. */
export function roomOfChannel(channel: string): string | undefined {
  if (!channel.startsWith(ROOM_PREFIX)) return undefined;
  const room = channel.slice(ROOM_PREFIX.length);
  return isRoomName(room) ? room : undefined;
}

/**
 * The text of a publication on a room, or the reason it is refused. Only the event `message` with
 * `{ text }` of 1–2000 characters (not all blank) is accepted; anything else the client sends is
 * dropped, so the server decides every field that other clients see.
 */
export function parseMessage(event: string, data: unknown): { text: string } | { refused: string } {
  if (event !== 'message') return { refused: `unknown event "${event.slice(0, 40)}": only "message" may be published` };
  if (!isRecord(data) || typeof data.text !== 'string') return { refused: 'a message needs { text: string }' };
  const { text } = data;
  if (text.trim() === '' || text.length > MAX_TEXT_LENGTH) {
    return { refused: `message text must be 1–${MAX_TEXT_LENGTH} characters` };
  }
  return { text };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
