/**
 * The messages every scenario sends: `seq|timestamp|padding`, padded to a fixed size so every stack
 * carries the same bytes of application data. Parsing is two indexOf calls, cheap enough not to
 * weigh on a client process receiving hundreds of thousands of messages a second.
 */

/** Application bytes per message (the stacks add their own framing around it). */
export const PAYLOAD_BYTES = 64;

const PAD = 'x'.repeat(PAYLOAD_BYTES);

/** `seq` and the send time `t` (clock.now()), padded to PAYLOAD_BYTES. */
export function encodePayload(seq: number, t: number): string {
  const head = `${seq}|${t.toFixed(4)}|`;
  return head.length >= PAYLOAD_BYTES ? head : head + PAD.slice(head.length);
}

/** The sequence number of a payload, or -1 if it is not one of ours. */
export function payloadSeq(data: string): number {
  const bar = data.indexOf('|');
  return bar > 0 ? Number(data.slice(0, bar)) : -1;
}

/** The send time carried by a payload, or NaN. */
export function payloadTime(data: string): number {
  const a = data.indexOf('|');
  const b = data.indexOf('|', a + 1);
  return a > 0 && b > a ? Number(data.slice(a + 1, b)) : Number.NaN;
}
