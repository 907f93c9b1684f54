/**
 * The browser bundle exactly as `npm run size` (scripts/size.mjs) measures it: what it must never
 * hold, and how large it may be. The budget is 8 KiB gzip (BUDGET_BYTES). Until the client meets
 * it, CEILING_BYTES keeps the figure from growing: lower it whenever the figure drops.
 */
import { describe, expect, it } from 'vitest';

// Raised from 13,000 when channel recovery (positions, history, GAP) and the HTTP/1.1 tab slots came in;
// lowered from 14,200 when the codec's tables were split by direction (13,707 then, + 3 %), and from
// 14,190 when the error codes' meanings moved into a table of their own (13,327 then); raised from
// 13,340 when draining came in (server_draining, and retrying the same transport on it: 13,346 then);
// raised from 13,365 when a new SSE session's POST /session came to carry the outbox (13,398 then;
// 13,449 once the client held on to such a session before its stream came: resume it, or a gap;
// 13,485 once a new session's early frames were only subscribes and reads; 13,555 once, after
// session_unknown, what never reached a session was sent again rather than reported lost); raised
// from 13,570 when acks came to keep within the server's replay buffer by size, and answers to ack
// what they answer (13,710 then), and again for the too_many_subscriptions code (13,724), and for
// server_busy and ERROR's retryMs (13,750; 13,745 once the connection and switcher had no getters;
// 13,782 once the client waited for server_busy's retry hint; 13,799 with too_many_sessions; 13,819
// once a handshake timer that fired late let what had arrived in first; 13,839 once the link check
// did too). Lowered to 13,829 when a delivery came to pass its ack counts and a WebSocket frame to
// count as liveness by itself (13,824), 13,827 with the heartbeat's late look; 13,806 once acks
// went on while a switch candidate resumes (13,804); 13,803 once the WebSocket transport reported
// liveness itself again (13,801); 13,835 with the frames behind HELLO in its message (13,833);
// 14,046 with the steady link's slower PINGs (14,044); 14,060 once the per-sample verdicts were
// shared by the streaks and the steadiness (14,058); 14,360 once an SSE resume posted its outbox
// beside the stream and learned from the answer what the server applied (14,353); 14,395 once the
// WebSocket transport said itself that a refused HELLO's frames went unapplied (14,388); 14,445
// once a new SSE session counted as sent only what fit its POST /session body (14,439); 14,460
// once the codes retried on the same transport were marked in ErrorCodes (14,451; 14,457 once the
// WebSocket transport stopped writing its HELLO flag on every message). Lowered to 14,315 when the
// connection bound the transports' callbacks itself (no LinkHooks), took both WELCOMEs in one place,
// and timed a link check with the link's own deadline (14,312 then; 14,313 once a switch
// candidate kept no outbox mark of its own).
const CEILING_BYTES = 14_315;

interface Measure {
  gzip: number;
  minified: number;
  modules: Array<[file: string, bytes: number]>;
  code: string;
}
const script = new URL('../../../scripts/size.mjs', import.meta.url);
const { measure, BUDGET_BYTES } = (await import(script.href)) as { measure(): Promise<Measure>; BUDGET_BYTES: number };
const bundle = await measure();

describe('the client browser bundle', () => {
  it('holds only our own source: no ws, no Node built-ins, no dependency at all', () => {
    const files = bundle.modules.map(([file]) => file);
    expect(files.every((f) => f.startsWith('packages/client/src/') || f.startsWith('packages/protocol/src/')), files.join('\n')).toBe(true);
    expect(bundle.code).not.toMatch(/\brequire\(|from ?["'](ws|node:|events|buffer|stream)/);
  });

  it('leaves out what only a server needs (sideEffects: false at work)', () => {
    expect(bundle.code).not.toContain('hello body must be an object'); // decoding client frames
    expect(bundle.code).not.toContain('SSE id must not contain'); // the SSE serializer
    expect(bundle.code).not.toContain('null or {epoch'); // the rule of a field only client frames have
    expect(bundle.code).not.toMatch(/subscribe:\[/); // the layouts of client frames (it sends them with encodeTail)
    expect(bundle.code).not.toContain('The server is shutting down'); // ErrorMeanings: the server's default messages
  });

  it(`stays under ${CEILING_BYTES} bytes gzip (budget ${BUDGET_BYTES})`, () => {
    expect(bundle.gzip).toBeLessThanOrEqual(CEILING_BYTES);
  });
});
