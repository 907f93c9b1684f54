/**
 * @wirehop/server — realtime channels over WebSocket and SSE+POST with sessions that deliver
 * every frame exactly once, in order, across reconnects and transport switches.
 *
 * @example
 * import { createWirehop, WirehopError } from '@wirehop/server';
 * const wirehop = createWirehop().channel('room:*', { publish: true, presence: true });
 * await wirehop.listen({ port: 3000 }); // clients connect to http://host:3000/wirehop
 */
export { createWirehop } from './wirehop.js';
export { WirehopError, ErrorCodes, ErrorMeanings, Defaults, type ErrorCode, type Json, type Member, type StreamPosition } from '@wirehop/protocol';
export type {
  AuthContext,
  ChannelConfig,
  HistoryOptions,
  HistoryResult,
  ListeningServer,
  ServerLimits,
  ServerOptions,
  Session,
  UpgradableServer,
  UserBase,
  Wirehop,
} from './types.js';
export { MemoryBroker, type MemoryBrokerOptions } from './memory-broker.js';
export type { Broker, BrokerHost, BrokerPublication, EndedSession, HistoryLimits, HistoryPage } from './broker.js';
