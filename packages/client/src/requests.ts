/**
 * How a caller's promise is settled: by the server's reply to its frame (requests, publishes,
 * subscriptions, presence) or by the frame's ack (send). Settles once; a request can time out, and
 * an answer after that is ignored.
 */
import { WirehopError } from '@wirehop/protocol';

/** The settling side of a caller's promise; extra calls after the first are ignored. */
export interface Reply {
  /** The server answered (reply data), or acked a `send`. */
  ok(value: unknown): void;
  fail(error: WirehopError): void;
  /** True once settled. A reply without it is never counted as pending (e.g. internal ones). */
  readonly done?: boolean;
}

/**
 * A Reply and the promise it settles.
 * @param timeoutMs > 0: fail with `timeout` after that long (the frame itself stays queued: it has
 *   a sequence number and is sent anyway; its late answer is dropped). 0 (default): no timeout.
 * @param onTimeout called after a timeout, to stop waiting for the answer.
 */
export function promiseReply<T>(timeoutMs = 0, onTimeout?: () => void): [Reply, Promise<T>] {
  let resolve!: (value: T) => void;
  let reject!: (error: WirehopError) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const reply = {
    done: false,
    ok(value: unknown) {
      if (reply.done) return;
      reply.done = true;
      clearTimeout(timer);
      resolve(value as T);
    },
    fail(error: WirehopError) {
      if (reply.done) return;
      reply.done = true;
      clearTimeout(timer);
      reject(error);
    },
  };
  if (timeoutMs > 0)
    timer = setTimeout(() => {
      reply.fail(new WirehopError('timeout', `no reply within ${timeoutMs} ms`));
      onTimeout?.();
    }, timeoutMs);
  return [reply, promise];
}
