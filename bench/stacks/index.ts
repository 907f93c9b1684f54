/** Every stack, in report column order. Each is one adapter file behind the same interface. */
import { honoSse } from './hono-sse.js';
import { socketioDefault, socketioWs } from './socketio.js';
import type { Stack } from './types.js';
import { wirehopDefault, wirehopSse, wirehopWs } from './wirehop.js';
import { wsCorked } from './ws-corked.js';
import { ws } from './ws.js';

export const STACKS: readonly Stack[] = [ws, wsCorked, socketioWs, socketioDefault, honoSse, wirehopWs, wirehopSse, wirehopDefault];

/** The stack every ratio is taken against. */
export const BASELINE = 'ws';

export function stackById(id: string): Stack {
  const stack = STACKS.find((s) => s.id === id);
  if (!stack) throw new Error(`unknown stack ${id}; known: ${STACKS.map((s) => s.id).join(', ')}`);
  return stack;
}
