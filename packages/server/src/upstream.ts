/**
 * Client → server frames after the handshake, the same for every transport (WebSocket messages and
 * POST /send lines): reliable frames go to the session's ReceiveWindow, acks to its replay
 * buffer, pings get a pong. The caller turns a failure into ERROR + close, or an HTTP status.
 */
import { encodeFrame, type ClientFrame, type ErrorCode } from '@wirehop/protocol';
import type { ServerSession } from './session.js';
import type { UserBase } from './types.js';

export type UpstreamOutcome =
  | { ok: true; /** Encoded PONG to answer a PING with. */ pong?: string }
  | { ok: false; code: ErrorCode; message: string };

/** Applies one decoded client frame to a session. Never throws. */
export function applyClientFrame<U extends UserBase>(session: ServerSession<U>, frame: ClientFrame): UpstreamOutcome {
  switch (frame.type) {
    case 'hello':
      return { ok: false, code: 'bad_frame', message: 'HELLO is only valid as the first frame of a new connection' };
    case 'ack':
      return session.onAck(frame.ack)
        ? { ok: true }
        : { ok: false, code: 'bad_ack', message: `ack ${frame.ack} is ahead of the last frame sent (${session.held.lastSeq})` };
    case 'ping':
      return { ok: true, pong: encodeFrame({ type: 'pong', n: frame.n }) };
    case 'pong':
      return { ok: true };
    default: {
      const expected = session.processedOrQueued + 1;
      switch (session.receive(frame)) {
        case 'accepted':
        case 'duplicate':
        case 'closed': // the session just ended; its transports are being closed with a BYE
          return { ok: true };
        case 'out_of_order':
          return { ok: false, code: 'out_of_order', message: `expected frame ${expected}, got ${frame.seq}: resume and resend` };
        case 'overloaded':
          return { ok: false, code: 'out_of_order', message: 'over limits.maxPendingFrames frames awaiting processing: resume and resend later' };
      }
    }
  }
}
