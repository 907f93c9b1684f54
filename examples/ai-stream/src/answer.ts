/**
 * The "model": a fixed answer cut into tokens the way a language model streams them — words with
 * their leading space, long words in sub-word pieces. No model runs; what matters here is a long,
 * steady stream whose every piece has an index, so a reader can tell a missing token from a repeated one.
 */

/** The one answer the demo gives, whatever the question. */
export const ANSWER_TEXT = `Short answer: the stream survives the outage because the session, not the connection, owns it.

Here is what happens, step by step. The server generates this answer exactly once, when your request arrives, and publishes every token on a channel that belongs to you. Each token carries its index, so the page can show you that nothing was skipped and nothing was repeated.

When the connection drops, the server does not notice much. It keeps generating, and the tokens it publishes wait in the session's replay buffer, numbered and unacknowledged. Nothing is regenerated: generation is keyed by the request identifier and runs once.

Meanwhile, the client moves to reconnecting and retries with a capped, jittered backoff. As soon as a connection works again, over WebSocket or over server-sent events with POST requests, it resumes the same session and tells the server the last frame it delivered. The server replays everything after that point, in order, and the typewriter simply continues from the next token as if nothing had happened.

Two limits keep this honest. A session outlives its connection for thirty seconds by default, and the replay buffer holds ten thousand frames or one mebibyte. Stay away longer, or fall further behind, and the client reports a gap instead of pretending: then the page asks for the answer so far and carries on.`;

/** Longest piece of a word, in characters, before it is split (roughly what BPE vocabularies do to rare words). */
const MAX_PIECE = 6;

/**
 * Splits text into tokens: whitespace stays attached to the word after it (" stream"), punctuation
 * is its own token, and words longer than {@link MAX_PIECE} characters come in pieces
 * (" generates" → " genera", "tes"). Joining the tokens gives the text back.
 * @example tokenize('Hello, world') // ['Hello', ',', ' world']
 */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  // A run of whitespace, then a word or a single punctuation mark; trailing whitespace on its own.
  for (const match of text.matchAll(/\s*(?:[\p{L}\p{N}'’-]+|[^\s\p{L}\p{N}])|\s+$/gu)) {
    const chunk = match[0];
    const lead = /^\s*/u.exec(chunk)![0];
    const word = chunk.slice(lead.length);
    if (word.length <= MAX_PIECE) {
      tokens.push(chunk);
      continue;
    }
    tokens.push(lead + word.slice(0, MAX_PIECE));
    for (let i = MAX_PIECE; i < word.length; i += MAX_PIECE) tokens.push(word.slice(i, i + MAX_PIECE));
  }
  return tokens;
}

/** {@link ANSWER_TEXT} as tokens, computed once. */
export const ANSWER_TOKENS: readonly string[] = Object.freeze(tokenize(ANSWER_TEXT));

/** The labelled steps of the demo's long task; progress runs 0–100 % across them. */
export const TASK_STEPS: readonly string[] = Object.freeze([
  'Reading the sources',
  'Extracting the facts',
  'Drafting the report',
  'Checking the citations',
  'Formatting',
]);

/** The step label for a percentage: the 0–100 range cut into equal parts, one per step. */
export function stepAt(percent: number): string {
  const index = Math.min(TASK_STEPS.length - 1, Math.floor((percent / 100) * TASK_STEPS.length));
  return TASK_STEPS[index]!;
}
