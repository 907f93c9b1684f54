/**
 * Channel patterns → ChannelConfig. Patterns are exact names or globs where `*` matches any run of
 * characters (including none and including ':'), so 'room:*' matches 'room:1' and 'room:a:b'.
 * The first registered pattern that matches wins, whatever is registered later.
 */
import type { ChannelConfig, UserBase } from './types.js';

interface Rule<U extends UserBase> {
  pattern: string;
  /** null for an exact pattern (compared as a string: cheaper and no escaping concerns). */
  regex: RegExp | null;
  config: ChannelConfig<U>;
}

/** Compiles a `*` glob to an anchored RegExp; every other character matches itself. */
export function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
    .join('.*');
  return new RegExp('^' + body + '$', 's');
}

/** The registered channel rules, in registration order. */
export class ChannelRules<U extends UserBase> {
  private readonly rules: Rule<U>[] = [];

  /** Adds a rule. Throws TypeError for an empty pattern or a config that is not an object. */
  add(pattern: string, config: ChannelConfig<U> = {}): void {
    if (typeof pattern !== 'string' || pattern.length === 0) throw new TypeError('wirehop: channel pattern must be a non-empty string');
    if (typeof config !== 'object' || config === null) throw new TypeError(`wirehop: channel(${JSON.stringify(pattern)}) config must be an object`);
    const { authorize, publish, eventSource } = config;
    if (eventSource !== undefined && typeof eventSource !== 'boolean')
      throw new TypeError(`wirehop: channel(${JSON.stringify(pattern)}).eventSource must be a boolean`);
    if (authorize !== undefined && typeof authorize !== 'function')
      throw new TypeError(`wirehop: channel(${JSON.stringify(pattern)}).authorize must be a function`);
    if (publish !== undefined && typeof publish !== 'boolean' && typeof publish !== 'function')
      throw new TypeError(`wirehop: channel(${JSON.stringify(pattern)}).publish must be a boolean or a function`);
    this.rules.push({ pattern, regex: pattern.includes('*') ? globToRegExp(pattern) : null, config });
  }

  /** The config of the first rule matching `channel`, or undefined (no rule: subscriptions are refused). */
  match(channel: string): ChannelConfig<U> | undefined {
    for (const rule of this.rules) {
      if (rule.regex ? rule.regex.test(channel) : rule.pattern === channel) return rule.config;
    }
    return undefined;
  }
}
