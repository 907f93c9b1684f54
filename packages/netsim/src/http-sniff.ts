/**
 * Just enough HTTP to find a WebSocket upgrade at the start of a connection and strip it. Pure
 * functions over bytes.
 */

const END = Buffer.from('\r\n\r\n');
/** A request head longer than this is passed through untouched: it is not one we need to see. */
export const MAX_HEAD = 16 * 1024;

/** Index just past the end of the header block, or -1 while it is incomplete. */
export function headEnd(buffer: Buffer): number {
  const i = buffer.indexOf(END);
  return i < 0 ? -1 : i + END.length;
}

export function isUpgradeRequest(head: string): boolean {
  return /^upgrade:\s*websocket\s*$/im.test(head);
}

/** The request head without Upgrade, Connection and Sec-WebSocket-* headers: a plain GET. */
export function stripUpgrade(head: string): string {
  const lines = head.split('\r\n');
  const kept = lines.filter((line, i) => i === 0 || !/^(upgrade|connection|sec-websocket-[\w-]+)\s*:/i.test(line));
  return kept.join('\r\n');
}

/** True if a response head is a successful upgrade. */
export function isSwitchingProtocols(chunk: Buffer): boolean {
  return /^HTTP\/1\.1 101 /.test(chunk.subarray(0, 16).toString('latin1'));
}
