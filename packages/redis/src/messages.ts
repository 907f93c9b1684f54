/**
 * What travels over Redis pub/sub. Channel messages are written by the Lua scripts (scripts.ts) by
 * plain concatenation, which is cheaper there than cjson: `P<epoch>\n<offset>\n<payload>` for a
 * publication, `J<member JSON>` / `L<member JSON>` for presence. Node inbox messages are JSON.
 */
import type { Json, Member } from '@wirehop/protocol';

export type ChannelMessage =
  | { kind: 'publication'; epoch: string; offset: number; payload: string }
  | { kind: 'join' | 'leave'; member: Member };

/** Decodes a channel message; throws on one this version does not know. */
export function decodeChannelMessage(message: string): ChannelMessage {
  switch (message[0]) {
    case 'P': {
      const a = message.indexOf('\n', 1);
      const b = a < 0 ? -1 : message.indexOf('\n', a + 1);
      const offset = Number(message.slice(a + 1, b));
      if (b < 0 || !Number.isSafeInteger(offset)) break;
      return { kind: 'publication', epoch: message.slice(1, a), offset, payload: message.slice(b + 1) };
    }
    case 'J':
    case 'L': {
      const member = JSON.parse(message.slice(1)) as Member;
      if (typeof member?.id !== 'string') break;
      return { kind: message[0] === 'J' ? 'join' : 'leave', member };
    }
  }
  throw new Error(`unexpected channel message ${JSON.stringify(message.slice(0, 80))}`);
}

/** A node-to-node request (`q`) or its answer (`a`: a result `r` or an error `e`). */
export type InboxMessage =
  | { k: 'q'; id: string; from: string; m: Json }
  | { k: 'a'; id: string; r: Json }
  | { k: 'a'; id: string; e: { code: string; message: string; detail?: Record<string, unknown> } };

export function decodeInboxMessage(message: string): InboxMessage {
  const m = JSON.parse(message) as InboxMessage;
  if ((m?.k === 'q' && typeof m.from === 'string') || (m?.k === 'a' && ('r' in m || 'e' in m))) {
    if (typeof m.id === 'string') return m;
  }
  throw new Error(`unexpected inbox message ${JSON.stringify(message.slice(0, 80))}`);
}
