/**
 * @wirehop/client — one realtime channel over WebSocket or SSE+POST, with sessions that survive
 * reconnects and transport changes: every message is delivered exactly once and in order both ways,
 * and when a session ends the application is told exactly what was resent and what was lost.
 *
 * This is the browser entry: it never imports `ws` or Node built-ins. In Node, the package's "node"
 * export condition selects ./node.js, which supplies `ws` when there is no global WebSocket.
 */
export { createClient } from './client.js';
export { defaultPolicy } from './policy.js';
export type {
  AdaptiveOptions,
  Channel,
  ChannelGap,
  ChannelHistory,
  ChannelEvents,
  ClientOptions,
  ClientState,
  ClientStats,
  EventMap,
  GapInfo,
  MessageData,
  PolicyDecision,
  PolicyInput,
  Quality,
  RequestParams,
  RequestResult,
  Schema,
  TransportChange,
  TransportName,
  TransportPolicy,
  WebSocketLike,
  WebSocketLikeConstructor,
  WirehopClient,
} from './types.js';
export { WirehopError, ErrorCodes, type ErrorCode, type Json, type Member, type StreamPosition } from '@wirehop/protocol';
