/**
 * One POST /send body applied to a session (protocol.md §5): frames in order, then the answer —
 * ACK (and a PONG per PING), or the first error with the ack of what was processed before it.
 * The body comes from wherever `read` takes it: the HTTP request itself, or the text another node
 * forwarded because the session lives here (nodes.ts).
 */
import { NDJSON, decodeClientFrame, encodeBatch, encodeFrame, type ClientFrame, type ErrorCode } from '@wirehop/protocol';
import { LineSplitter, type BodyEnd, type ChunkConsumer, type LineVerdict } from './body.js';
import { refuse, refusalBody, type HandshakeCore } from './handshake.js';
import type { ServerSession } from './session.js';
import type { UserBase } from './types.js';
import { applyClientFrame } from './upstream.js';

/** An HTTP answer as data: JSON error bodies carry their status. */
export interface BatchAnswer {
  status: number;
  body: string;
  contentType: string;
}

export function errorAnswer(code: ErrorCode, message?: string, ack?: number): BatchAnswer {
  const r = refuse(code, message, ack);
  return { status: r.status, body: JSON.stringify(refusalBody(r)), contentType: 'application/json' };
}

/**
 * Applies a body's frames as its lines arrive (limits apply as bytes come in). A body that overtook
 * earlier ones on the way (its first reliable frame is ahead of what the session received) is held
 * instead, and applied once they have been (post-order.ts). A bad line ends the body: the frames
 * before it are applied, and the answer is the error with their ack.
 */
export async function processBatch<U extends UserBase>(host: HandshakeCore<U>, session: ServerSession<U>, read: (splitter: ChunkConsumer) => Promise<BodyEnd>): Promise<BatchAnswer> {
  const { limits } = host.options;
  const pongs: string[] = [];
  let failure: { code: ErrorCode; message: string } | undefined;
  /** Frames from the first one that came too early on, until the bodies before this one arrived. */
  let held: ClientFrame[] | undefined;
  let after = 0;
  const apply = (frame: ClientFrame): LineVerdict => {
    const outcome = applyClientFrame(session, frame);
    if (!outcome.ok) {
      failure = outcome;
      return 'stop';
    }
    if (outcome.pong) pongs.push(outcome.pong);
    return undefined;
  };
  session.lastHeard = Date.now();
  const splitter = new LineSplitter({ maxBodyBytes: limits.maxBatchBytes, maxLineBytes: limits.maxMessageBytes, maxLines: limits.maxBatchFrames }, (line) => {
    const decoded = decodeClientFrame(line, limits);
    if (!decoded.ok) {
      failure = decoded;
      return 'stop';
    }
    const frame = decoded.frame;
    if (!held && 'seq' in frame && frame.seq - 1 > session.processedOrQueued) {
      held = [];
      after = frame.seq - 1;
    }
    if (!held) return apply(frame);
    held.push(frame);
    return undefined;
  });
  let ack: number;
  let end: BodyEnd;
  session.beginBatch();
  try {
    end = await read(splitter);
  } finally {
    ack = session.endBatch();
  }
  if (held) {
    const turn = await session.turnAfter(after);
    if (turn === 'timeout' || turn === 'full') {
      const why =
        turn === 'full' ? `more than ${limits.postsInFlight} POST bodies of this session at once` : `frames before ${after + 1} did not arrive within postWaitMs (${limits.postWaitMs} ms)`;
      return errorAnswer('out_of_order', `${why}: resume and resend`, session.takeAck());
    }
    session.beginBatch();
    try {
      for (const frame of turn === 'go' ? held : []) if (apply(frame)) break;
    } finally {
      ack = session.endBatch();
    }
  }
  session.lastHeard = Date.now();
  if (!session.isOpen) {
    // The session ended while this body was processed (the application closed it, or overflow).
    const found = host.registry.lookup(session.id, session.token);
    return found.kind === 'ended' ? errorAnswer(found.tombstone.code, found.tombstone.message, found.tombstone.ack) : errorAnswer('session_unknown');
  }
  if (end.kind === 'error') return errorAnswer(end.error.code, end.error.message, ack);
  if (failure) return errorAnswer(failure.code, failure.message, ack);
  if (end.kind === 'aborted') return errorAnswer('bad_request', 'the request body was cut short', ack);
  return { status: 200, body: encodeBatch([encodeFrame({ type: 'ack', ack }), ...pongs]), contentType: NDJSON };
}

/** Feeds a whole body held as text, as readLines would feed a request. */
export function textBody(text: string): (splitter: ChunkConsumer) => Promise<BodyEnd> {
  return async (splitter) => {
    const verdict = splitter.feed(Buffer.from(text, 'utf8')) ?? splitter.end();
    if (verdict === 'stop') return { kind: 'stopped' };
    if (verdict) return { kind: 'error', error: verdict };
    return { kind: 'end' };
  };
}
