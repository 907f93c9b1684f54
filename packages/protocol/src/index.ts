/**
 * @wirehop/protocol — the wire protocol shared by @wirehop/server and @wirehop/client.
 * Pure data and pure functions: no IO, no timers, no globals. See docs/protocol.md.
 */
export * from './frames.js';
export * from './codes.js';
export * from './limits.js';
export * from './codec.js';
export * from './sse.js';
export * from './sse-parser.js';
export * from './sequence.js';
