/**
 * Checks on frames the server application originates (publish, Session.send, replies). A frame the
 * client cannot decode would make it drop the transport and resume into the same frame forever, so
 * names and sizes are checked here, where the application can still be told.
 */
import { WirehopError, isValidName, utf8Length } from '@wirehop/protocol';
import type { ServerLimits } from './options.js';

/**
 * Longest prefix encodeWithTail adds before a tail: '[' + two-digit code + ',' + a sequence number
 * of up to 15 digits + ','. Counting it once keeps fan-out free of per-session size checks.
 */
const PREFIX_ALLOWANCE = 20;

/**
 * Throws WirehopError('bad_frame') unless `event` (and `channel`, if given) are valid names per
 * protocol.md §2, checked by the codec's own rule (isValidName), which it runs once per publish.
 */
export function assertNames(limits: ServerLimits, event: string, channel?: string): void {
  if (channel !== undefined && !isValidName(channel, 'channel', limits))
    throw new WirehopError('bad_frame', `invalid channel name: it must be a string of 1..${limits.maxChannelLength} characters without control characters`);
  if (!isValidName(event, 'name', limits))
    throw new WirehopError('bad_frame', `invalid event name: it must be a string of 1..${limits.maxNameLength} characters without control characters`);
}

/** An event's offset, added by the channel feed after the checks: ',' and up to 16 digits. */
export const OFFSET_ALLOWANCE = 17;

/** Throws WirehopError('message_too_large') if a frame with this tail (plus `extra` bytes) could exceed maxMessageBytes. */
export function assertTailSize(limits: ServerLimits, tail: string, extra = 0): void {
  // Cheap bound first: a UTF-8 byte is at most 3 per UTF-16 unit.
  if (tail.length * 3 + PREFIX_ALLOWANCE + extra <= limits.maxMessageBytes) return;
  const bytes = utf8Length(tail) + PREFIX_ALLOWANCE + extra;
  if (bytes > limits.maxMessageBytes)
    throw new WirehopError('message_too_large', `frame of about ${bytes} bytes exceeds maxMessageBytes (${limits.maxMessageBytes})`, { limit: limits.maxMessageBytes });
}
