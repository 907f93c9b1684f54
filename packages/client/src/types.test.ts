import type { Member } from '@wirehop/protocol';
import { describe, expectTypeOf, it } from 'vitest';
import { createClient } from './client.js';
import { defaultPolicy } from './policy.js';
import type { Channel, ChannelEvents, MessageData, Quality, RequestParams, RequestResult, TransportChange, TransportName, TransportPolicy, WirehopClient } from './types.js';

type Msg = { from: string; text: string };
type Chat = {
  channels: { [name: `room:${string}`]: { message: { text: string }; typing: { on: boolean } }; lobby: { hello: string } };
  messages: { notice: { text: string } };
  requests: { history: { params: { room: string }; result: Msg[] } };
};

describe('Schema typing', () => {
  it('types channels by exact name and by template-literal pattern', () => {
    expectTypeOf<ChannelEvents<Chat, 'room:1'>>().toEqualTypeOf<{ message: { text: string }; typing: { on: boolean } }>();
    expectTypeOf<ChannelEvents<Chat, 'lobby'>>().toEqualTypeOf<{ hello: string }>();
    expectTypeOf<ChannelEvents<Chat, 'elsewhere'>>().toEqualTypeOf<Record<string, unknown>>();
  });

  it('types messages and requests, unknown when undeclared', () => {
    expectTypeOf<MessageData<Chat, 'notice'>>().toEqualTypeOf<{ text: string }>();
    expectTypeOf<MessageData<Chat, 'other'>>().toBeUnknown();
    expectTypeOf<RequestParams<Chat, 'history'>>().toEqualTypeOf<{ room: string }>();
    expectTypeOf<RequestResult<Chat, 'history'>>().toEqualTypeOf<Msg[]>();
    expectTypeOf<RequestResult<Chat, 'other'>>().toBeUnknown();
  });

  it('falls back to unknown everywhere without a schema, or with a partial one', () => {
    expectTypeOf<ChannelEvents<{ messages: { a: number } }, 'x'>>().toEqualTypeOf<Record<string, unknown>>();
    expectTypeOf<MessageData<{ channels: {} }, 'a'>>().toBeUnknown();
    const c = createClient({ url: 'http://127.0.0.1:9/wirehop', autoConnect: false });
    expectTypeOf(c.channel('x').publish).parameter(1).toBeUnknown();
    const pending = c.request('anything');
    pending.catch(() => {}); // close() rejects it with client_closed
    expectTypeOf(pending).resolves.toBeUnknown();
    c.close();
  });

  it('checks calls on a typed client', () => {
    const c = createClient<Chat>({ url: 'http://127.0.0.1:9/wirehop', autoConnect: false });
    const room = c.channel('room:1');
    expectTypeOf(room).toEqualTypeOf<Channel<{ message: { text: string }; typing: { on: boolean } }>>();
    // Never run: only compiled. Each @ts-expect-error is a call the schema must refuse.
    const compileOnly = () => {
      void room.publish('message', { text: 'hi' });
      // @ts-expect-error wrong payload
      void room.publish('message', { text: 1 });
      // @ts-expect-error undeclared event on a declared channel
      void room.publish('shout', { text: 'hi' });
      room.on('typing', (d) => expectTypeOf(d).toEqualTypeOf<{ on: boolean }>());
      room.on('*', (event, data) => {
        expectTypeOf(event).toBeString();
        expectTypeOf(data).toBeUnknown();
      });
      room.onPresence('join', (m) => expectTypeOf(m).toEqualTypeOf<Member>());
      expectTypeOf(c.request('history', { room: 'room:1' })).resolves.toEqualTypeOf<Msg[]>();
      // @ts-expect-error wrong params
      void c.request('history', { room: 1 });
      void c.send('notice', { text: 'x' });
      // @ts-expect-error wrong message payload
      void c.send('notice', { text: 2 });
      void c.send('free-form', 123);
      expectTypeOf(c.channel('lobby').on).toBeCallableWith('hello', (d: string) => void d);
    };
    void compileOnly;
    expectTypeOf(c).toEqualTypeOf<WirehopClient<Chat>>();
    c.close();
  });

  it('types adaptive switching', () => {
    expectTypeOf(defaultPolicy).toEqualTypeOf<TransportPolicy>();
    const c = createClient({ url: 'http://127.0.0.1:9/wirehop', autoConnect: false, adaptive: { maxRttMs: 500, policy: (i) => (i.quality.loss > 0.5 ? { to: 'sse', reason: 'lossy' } : null) } });
    expectTypeOf(c.switchTransport).parameter(0).toEqualTypeOf<TransportName>();
    const switching = c.switchTransport('sse');
    switching.catch(() => {}); // close() rejects it with client_closed
    expectTypeOf(switching).resolves.toBeVoid();
    c.on('transport', (e) => expectTypeOf(e).toEqualTypeOf<TransportChange>());
    expectTypeOf(c.stats.loss).toBeNumber();
    expectTypeOf<TransportChange['quality']>().toEqualTypeOf<Quality>();
    // @ts-expect-error adaptive is false or options, never true
    void createClient({ url: 'http://127.0.0.1:9/wirehop', autoConnect: false, adaptive: true }).close();
    c.close();
  });
});
