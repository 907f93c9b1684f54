/**
 * Waiting for a condition that an event will make true. Tests never sleep to synchronise; they wait
 * for the state they need, with a generous deadline that only matters when something is broken.
 */
export async function waitFor<T>(
  check: () => T | undefined | false | null,
  { timeoutMs = 20_000, what = 'condition' }: { timeoutMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Resolves with the first value an `on(event, listener) → off` style source emits. */
export function nextEvent<A extends unknown[]>(
  on: (listener: (...args: A) => void) => () => void,
  { timeoutMs = 20_000, what = 'event' }: { timeoutMs?: number; what?: string } = {},
): Promise<A> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const off = on((...args) => {
      clearTimeout(timer);
      off();
      resolve(args);
    });
  });
}
