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
  // Copy on write: adding or removing makes a new array, so emit, which runs once per delivered
  // event, walks the current one as it is without copying it, even while a listener changes it.
  const listeners = new Map<string, Listener[]>();
  return {
    on(event, listener) {
      const list = listeners.get(event) ?? [];
      if (!list.includes(listener)) listeners.set(event, [...list, listener]);
      return () => void listeners.set(event, listeners.get(event)!.filter((l) => l !== listener));
    },
    emit(event, ...args) {
      const list = listeners.get(event);
      if (list) for (const l of list) {
        try {
          (l as (...a: unknown[]) => unknown)(...args);
        } catch (error) {
          report(error, event);
        }
      }
    },
  };
}
