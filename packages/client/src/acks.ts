/**
 * When the client acks the server's reliable frames (protocol.md §4, §5). Acks only let the server
 * free its replay buffer: a resume names the last frame the client got, so delivery never waits
 * for one. What they cost decides the policy. On WebSocket an ack is a few bytes on an open
 * socket; on SSE an ack of its own is an HTTP request, so there it waits for 8× as many frames and
 * 8× as long, and otherwise rides on a POST that goes anyway (a PING's, or a message's once
 * `every` frames wait). Every wait is jittered by up to half again: all the subscribers of a
 * broadcast start their timers at the same moment, and a server should not get all their acks at once.
 *
 * One bound comes before all of that, on both transports: the server's replay buffer (WELCOME). What
 * is unacked there past its frames or bytes ends the session (replay_overflow), however fast the
 * client reads, so an ack goes at once when a quarter of either is unacked: the other three
 * quarters are room for what is in flight while the ack travels. Large frames hit it first: 32
 * frames of 60 KB outgrow the default 1 MiB.
 */
import { Defaults } from '@wirehop/protocol';

/**
 * The default delay. Longer than the server's (Defaults.ackDelayMs, 50 ms), which decides how soon
 * a send() resolves. A subscriber of 20 events a second acked every 50 ms, so a server fanning out
 * to many of them read one ack for every two or three deliveries (bench fanout, 500 WebSocket
 * clients at 25k deliveries/s: server CPU per delivery 13.0–13.5 µs at 50 ms, 10.7–11.0 µs at 250 ms).
 */
export const ACK_DELAY_MS = 250;
/** How much rarer acks are on SSE, in frames and in time. */
const SSE_ACK_SCALE = 8;
/** The share of the server's replay buffer that may be unacked before an ack goes at once. */
const REPLAY_SHARE = 4;

export interface AckHost {
  /** Reliable frames delivered and not acked yet. */
  unacked(): number;
  /** Sends an ack of everything delivered, unless one must be held back now. */
  send(): void;
}

export interface Acks {
  /** A WELCOME attached the session: its server's replay buffer, and whether it is on SSE now. */
  attached(welcome: { replayFrames?: number; replayBytes?: number }, sse: boolean): void;
  /**
   * A reliable frame was delivered: ack now, or make sure an ack follows. `unacked` frames of
   * `units` (UTF-16 code units, as the server counts its replay buffer) now wait for one: the
   * caller has them at hand, and a delivery should read nothing it does not need.
   */
  delivered(unacked: number, units: number): void;
  /** An ack follows within the delay, if anything is unacked. */
  later(): void;
  /** Acks now (a PING's POST is going anyway). */
  now(): void;
  /** A message goes out: on SSE its POST takes the ack along once `every` frames wait. */
  sending(): void;
  stop(): void;
}

export function createAcks(every: number, delayMs: number, host: AckHost): Acks {
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Kept here as the two bounds: a delivery reads nothing more than it has to.
  let maxFrames = Defaults.replayBufferFrames / REPLAY_SHARE;
  let maxUnits = Defaults.replayBufferBytes / REPLAY_SHARE;
  /** 1 on WebSocket, SSE_ACK_SCALE on SSE: set on every attach, the only time the transport changes. */
  let scale = 1;
  const now = () => {
    clearTimeout(timer);
    timer = undefined;
    host.send();
  };
  const wait = () => (timer ??= setTimeout(now, delayMs * scale * (1 + Math.random() / 2)));
  return {
    attached({ replayFrames = Defaults.replayBufferFrames, replayBytes = Defaults.replayBufferBytes }, sse) {
      maxFrames = replayFrames / REPLAY_SHARE;
      maxUnits = replayBytes / REPLAY_SHARE;
      scale = sse ? SSE_ACK_SCALE : 1;
    },
    delivered: (n, units) => void (n >= every * scale || n >= maxFrames || units >= maxUnits ? now() : wait()),
    later: () => void (host.unacked() > 0 && wait()),
    now,
    sending: () => void (scale > 1 && host.unacked() >= every && now()),
    stop() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
