/**
 * The connect-time probe (protocol.md §5, "Probe"): timed `GET {path}/ping` requests, one after the
 * other, so that the first transport can be chosen from a measurement instead of a guess.
 */
import type { Http } from './http.js';

/**
 * Sends `count` sequential GETs to `url`, each abandoned (a loss) after `timeoutMs`, and reports
 * each as `sample(startedAt, rtt | null)`; stops early when `sample` returns false. Any HTTP answer
 * counts as a round trip; a network error or a timeout is a loss. Never rejects.
 */
export async function probe(
  http: Http,
  url: string,
  headers: Record<string, string>,
  count: number,
  timeoutMs: number,
  sample: (at: number, rtt: number | null) => boolean,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    const at = Date.now();
    let rtt: number | null = null;
    try {
      const answer = await http({ url, headers, signal: abort.signal });
      rtt = Date.now() - at;
      // Read the (empty) body so that the connection goes back to the pool for the next request.
      await answer.text();
    } catch {
      // lost: rtt stays null unless the answer came before the body failed
    }
    clearTimeout(timer);
    if (!sample(at, rtt)) return;
  }
}
