/**
 * The browser's hints that the network may have changed under a live session: `offline` and
 * `online` (on the window, or a worker's global) and `visibilitychange` (on the document; a hidden
 * page's timers are throttled and a sleeping laptop's sockets die silently). Feature-detected:
 * where they do not exist (Node) nothing is listened to. What each hint means for the session is
 * the connection's business (connection.ts).
 */

export interface NetworkHints {
  offline(): void;
  online(): void;
  /** The page is visible again after having been hidden. */
  visible(): void;
}

/** The part of an EventTarget used here; both methods are optional, as on non-browser globals. */
export interface HintSource {
  addEventListener?(type: string, listener: () => void): void;
  removeEventListener?(type: string, listener: () => void): void;
  /** `document.visibilityState`. */
  readonly visibilityState?: string;
}

/**
 * Calls `hints` until the returned function is called.
 * @param global where `online` and `offline` fire (default `globalThis`)
 * @param doc where `visibilitychange` fires (default `globalThis.document`)
 */
export function watchNetwork(hints: NetworkHints, global: HintSource = globalThis, doc = (globalThis as { document?: HintSource }).document): () => void {
  let hidden = false;
  const onVisibility = () => {
    if (doc?.visibilityState === 'hidden') hidden = true;
    else if (hidden) {
      hidden = false;
      hints.visible();
    }
  };
  const listeners: Array<[HintSource | undefined, string, () => void]> = [
    [global, 'offline', () => hints.offline()],
    [global, 'online', () => hints.online()],
    [doc, 'visibilitychange', onVisibility],
  ];
  for (const [source, type, listener] of listeners) source?.addEventListener?.(type, listener);
  return () => {
    for (const [source, type, listener] of listeners) source?.removeEventListener?.(type, listener);
  };
}
