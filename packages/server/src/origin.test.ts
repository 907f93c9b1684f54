import { describe, expect, it } from 'vitest';
import { corsHeaders, originAllowed, preflightHeaders } from './origin.js';
import { resolveOptions } from './options.js';

const req = () => new Request('http://app.example/wirehop/sse');

describe('originAllowed', () => {
  it('same-origin: no Origin passes, Origin host must equal Host', () => {
    expect(originAllowed('same-origin', undefined, 'app.example', req)).toBe(true);
    expect(originAllowed('same-origin', 'https://app.example', 'app.example', req)).toBe(true);
    expect(originAllowed('same-origin', 'https://app.example:8443', 'app.example:8443', req)).toBe(true);
    expect(originAllowed('same-origin', 'https://evil.example', 'app.example', req)).toBe(false);
    expect(originAllowed('same-origin', 'null', 'app.example', req)).toBe(false);
    expect(originAllowed('same-origin', 'https://app.example', undefined, req)).toBe(false);
  });

  it("'*', allow-lists and functions", () => {
    expect(originAllowed('*', 'https://any.example', 'x', req)).toBe(true);
    const list = new Set(['https://good.example']);
    expect(originAllowed(list, 'https://good.example', 'x', req)).toBe(true);
    expect(originAllowed(list, 'HTTPS://GOOD.EXAMPLE', 'x', req)).toBe(true);
    expect(originAllowed(list, 'https://bad.example', 'x', req)).toBe(false);
    const fn = (origin: string, request: Request) => origin.endsWith('.trusted') && request.url.includes('/wirehop');
    expect(originAllowed(fn, 'https://a.trusted', 'x', req)).toBe(true);
    expect(originAllowed(fn, 'https://a.other', 'x', req)).toBe(false);
  });
});

describe('CORS headers', () => {
  it('reflect an allowed origin with credentials by default', () => {
    const options = resolveOptions({ origins: ['https://good.example'] });
    expect(corsHeaders(options, 'https://good.example')).toEqual({
      'access-control-allow-origin': 'https://good.example',
      'access-control-allow-credentials': 'true',
      vary: 'Origin',
    });
    expect(corsHeaders(options, undefined)).toEqual({});
  });

  it("use '*' only when credentials are off", () => {
    expect(corsHeaders(resolveOptions({ origins: '*', cors: { credentials: false } }), 'https://x.example')).toEqual({ 'access-control-allow-origin': '*' });
  });

  it('are absent when cors is false', () => {
    expect(corsHeaders(resolveOptions({ cors: false }), 'https://x.example')).toEqual({});
    expect(preflightHeaders(resolveOptions({ cors: false }), 'https://x.example', 'x-a')).toEqual({});
  });

  it('preflight allows the requested headers, or the wirehop ones', () => {
    const options = resolveOptions({ origins: '*', cors: { maxAgeS: 60 } });
    expect(preflightHeaders(options, 'https://x.example', 'x-custom')).toMatchObject({
      'access-control-allow-headers': 'x-custom',
      'access-control-max-age': '60',
      'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
    });
    expect(preflightHeaders(options, 'https://x.example', undefined)['access-control-allow-headers']).toContain('x-wirehop-token');
  });
});
