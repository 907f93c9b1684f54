import { PROTOCOL_VERSION, encodeFrame, type WelcomeFrame } from '@wirehop/protocol';
import { describe, expect, it } from 'vitest';
import { nodeHttp } from '../node-http.js';
import type { WebSocketLike, WebSocketLikeConstructor } from '../types.js';
import { websocket } from './websocket.js';

/** A scripted socket: records what the transport sends, one entry per WebSocket message. */
class ScriptedSocket implements WebSocketLike {
  static last: ScriptedSocket | undefined;
  readyState = 0;
  onopen: ((event: never) => void) | null = null;
  onmessage: ((event: never) => void) | null = null;
  onclose: ((event: never) => void) | null = null;
  onerror: ((event: never) => void) | null = null;
  readonly messages: string[] = [];
  constructor(readonly url: string) {
    ScriptedSocket.last = this;
  }
  send(data: string) {
    this.messages.push(data);
  }
  close() {}
  open() {
    this.readyState = 1;
    this.onopen?.({} as never);
  }
  receive(text: string) {
    this.onmessage?.({ data: text } as never);
  }
}

const WELCOME: WelcomeFrame = { type: 'welcome', v: 1, sid: 'S', token: 'T', resumed: false, ack: 0, heartbeatMs: 15000, heartbeatTimeoutMs: 10000, sessionTtlMs: 30000, maxMessageBytes: 90 };

function opened(welcome: WelcomeFrame) {
  const t = websocket(
    { url: 'http://x/wirehop', hello: { type: 'hello', v: PROTOCOL_VERSION }, headers: {}, WebSocket: ScriptedSocket as unknown as WebSocketLikeConstructor, http: nodeHttp, maxMessageBytes: 65_536 },
    { frame: () => undefined, alive: () => undefined, close: () => undefined },
  );
  const socket = ScriptedSocket.last!;
  socket.open();
  socket.receive(encodeFrame(welcome));
  socket.messages.length = 0; // the HELLO
  return { t, socket };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('websocket transport sends', () => {
  it('the frames of one task in as few messages as WELCOME.batch allows: its frame count, and maxMessageBytes', async () => {
    const { t, socket } = opened({ ...WELCOME, batch: 3 });
    t.send(['[4,1,"n",1]', '[20,7]']);
    t.send(['[4,2,"n",2]']);
    expect(socket.messages).toEqual([]); // at the end of the task
    await tick();
    expect(socket.messages).toEqual(['[4,1,"n",1]\n[20,7]\n[4,2,"n",2]']);
    // At most 3 frames a message, whatever their size.
    t.send(['[20,1]', '[20,2]', '[20,3]', '[20,4]']);
    await tick();
    expect(socket.messages.slice(1)).toEqual(['[20,1]\n[20,2]\n[20,3]', '[20,4]']);
    // At most 90 bytes (WELCOME.maxMessageBytes here), a newline counted after each frame.
    const long = '[4,3,"n","' + 'x'.repeat(50) + '"]'; // 62 bytes
    t.send([long, '[20,8]', long]);
    await tick();
    expect(socket.messages.slice(3)).toEqual([long + '\n[20,8]', long]);
  });

  it('one frame per message to a server whose WELCOME does not say batch', async () => {
    const { t, socket } = opened(WELCOME);
    t.send(['[4,1,"n",1]', '[20,7]']);
    t.send(['[4,2,"n",2]']);
    expect(socket.messages).toEqual(['[4,1,"n",1]', '[20,7]', '[4,2,"n",2]']);
  });

  it('drops what waits for the end of the task once closed (the outbox sends it again elsewhere)', async () => {
    const { t, socket } = opened({ ...WELCOME, batch: 1024 });
    t.send(['[4,1,"n",1]']);
    t.close(undefined);
    await tick();
    expect(socket.messages).toEqual([]);
  });
});

describe('websocket transport greets', () => {
  const hello = { type: 'hello', v: PROTOCOL_VERSION } as const;
  const HELLO = encodeFrame(hello);
  function greeting(maxMessageBytes: number, behind: string[]) {
    const t = websocket(
      { url: 'http://x/wirehop', hello, headers: {}, WebSocket: ScriptedSocket as unknown as WebSocketLikeConstructor, http: nodeHttp, maxMessageBytes },
      { frame: () => undefined, alive: () => undefined, close: () => undefined, open: () => t.send(behind) },
    );
    const socket = ScriptedSocket.last!;
    socket.open();
    return socket.messages;
  }

  it('with the frames sent as it opens in the HELLO message, one write for all (protocol.md §4)', () => {
    expect(greeting(65_536, ['[1,1,"a"]', '[1,2,"b"]'])).toEqual([`${HELLO}\n[1,1,"a"]\n[1,2,"b"]`]);
    expect(greeting(65_536, [])).toEqual([HELLO]);
  });

  it('and those that do not fit maxMessageBytes (a newline counted after each) in messages of their own', () => {
    const a = '[1,1,"' + 'a'.repeat(40) + '"]';
    const b = '[1,2,"b"]';
    const max = HELLO.length + 1 + a.length + 1;
    expect(greeting(max, [a, b])).toEqual([`${HELLO}\n${a}`, b]);
    expect(greeting(HELLO.length + 1, [a, b])).toEqual([HELLO, a, b]);
  });
});
