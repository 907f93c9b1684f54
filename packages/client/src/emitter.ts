/**
 * A tiny emitter. A listener that throws never breaks the emitting code or the other listeners:
 * its error goes to `report` (the client turns it into an 'error' event).
 */
type Listener = (...args: never[]) => unknown;

/** Listeners by event name. */
export interface Emitter {
  /** Adds a listener; returns the function that removes it. */
  on(event: string, listener: Listener): () => void;
  emit(event: string, ...args: unknown[]): void;
}

/** @param report receives what a listener threw, and the event it was called for. */
export function createEmitter(report: (error: unknown, event: string) => void): Emitter {
  const listeners = new Map<string, Set<Listener>>();
  return {
    on(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener);
      return () => void set.delete(listener);
    },
    emit(event, ...args) {
      const set = listeners.get(event);
      // Copy: a listener may add or remove listeners while we iterate.
      if (set) for (const l of [...set]) {
        try {
          (l as (...a: unknown[]) => unknown)(...args);
        } catch (error) {
          report(error, event);
        }
      }
    },
  };
}
