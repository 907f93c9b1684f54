import { createServer, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { SseDownstream, frameTypeName, sseHeaders } from './sse.js';

describe('frameTypeName', () => {
  it('reads the type from the leading code', () => {
    expect(frameTypeName('[10,5,"c","e",null]')).toBe('event');
    expect(frameTypeName('[25,{"v":1}]')).toBe('welcome');
    expect(frameTypeName('[20,3]')).toBe('ack');
    expect(frameTypeName('[13,1,2,"x","y"]')).toBe('replyError');
  });
});

describe('sseHeaders', () => {
  it('sets the proxy-safe headers; Connection only on HTTP/1', () => {
    expect(sseHeaders(false, { vary: 'Origin' })).toEqual({
      vary: 'Origin',
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    expect(sseHeaders(true, {})).not.toHaveProperty('connection');
  });
});

describe('SseDownstream', () => {
  /** A real HTTP/1.1 server whose one response is an SseDownstream; the raw bytes are read off a socket. */
  async function withDownstream(run: (d: SseDownstream, closed: () => boolean, res: ServerResponse) => void): Promise<string> {
    let closed = false;
    const server = createServer((_req, res) => {
      const d = new SseDownstream(res, sseHeaders(false, {}), 1000, () => void (closed = true));
      run(d, () => closed, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    socket.write('GET /sse HTTP/1.1\r\nHost: x\r\n\r\n');
    let raw = '';
    // The response is kept alive: it is over at the last chunk (size 0), not when the socket ends.
    await new Promise<void>((resolve) =>
      socket.on('data', (chunk) => {
        raw += chunk.toString('latin1');
        if (raw.endsWith('\r\n0\r\n\r\n')) resolve();
      }),
    );
    socket.destroy();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return raw;
  }

  /** The chunks of a chunked HTTP/1.1 body, in order. */
  function chunks(raw: string): string[] {
    let rest = raw.slice(raw.indexOf('\r\n\r\n') + 4);
    const out: string[] = [];
    for (;;) {
      const eol = rest.indexOf('\r\n');
      const size = parseInt(rest.slice(0, eol), 16);
      if (!size) return out;
      out.push(rest.slice(eol + 2, eol + 2 + size));
      rest = rest.slice(eol + 2 + size + 2);
    }
  }

  it("writes a response's first event of a tick at once and the events behind it as one chunk; after such a tick, all of the next in one", async () => {
    const raw = await withDownstream((d) => {
      d.write('[11,1,"e",1]', 1);
      d.heartbeat();
      d.write('[11,2,"e",2]', 2);
      setImmediate(() => {
        d.write('[11,3,"e",3]', 3);
        d.write('[26,"x","y",3]', 3);
        d.close();
      });
    });
    // The header block is sent as built (it is kept flat afterwards, see flattenSentHeader).
    expect(raw).toMatch(/^HTTP\/1\.1 200 OK\r\n(.+\r\n)*content-type: text\/event-stream\r\n(.+\r\n)*transfer-encoding: chunked\r\n/i);
    expect(chunks(raw)).toEqual([
      'retry: 1000\n\n',
      'id: 1\nevent: message\ndata: [11,1,"e",1]\n\n',
      ': hb\n\nid: 2\nevent: message\ndata: [11,2,"e",2]\n\n',
      // The tick before gave this response a second event (a burst): this one holds from the first,
      // and close() writes what it holds before the end.
      'id: 3\nevent: message\ndata: [11,3,"e",3]\n\nid: 3\nevent: bye\ndata: [26,"x","y",3]\n\n',
    ]);
  });

  it("sends a tick's first event to the socket before the tick ends", async () => {
    let seen: unknown[] = [];
    const raw = await withDownstream((d, _closed, res) => {
      // Ends on a tick that gave no response a second event, whatever ran before: the next is no burst.
      d.write('[11,1,"e",1]', 1);
      setImmediate(() => {
        const socket = res.socket!;
        const before = socket.bytesWritten;
        d.write('[11,2,"e",2]', 2);
        seen = [socket.bytesWritten > before, socket.writableCorked, d.buffered()];
        d.close();
      });
    });
    expect(seen).toEqual([true, 0, 0]);
    expect(chunks(raw).slice(1)).toEqual(['id: 1\nevent: message\ndata: [11,1,"e",1]\n\n', 'id: 2\nevent: message\ndata: [11,2,"e",2]\n\n']);
  });

  it('counts events not yet written as buffered, and drops writes once closed', async () => {
    const seen: number[] = [];
    const raw = await withDownstream((d, closed) => {
      d.write('[11,1,"e",1]', 1);
      // The second event of the tick waits for its end: buffered counts it.
      const before = d.buffered();
      d.write('[11,2,"e",2]', 2);
      seen.push(d.buffered() - before);
      d.close();
      d.write('[11,3,"e",3]', 3);
      seen.push(d.open ? 1 : 0, closed() ? 1 : 0);
    });
    expect(seen[0]).toBe('id: 2\nevent: message\ndata: [11,2,"e",2]\n\n'.length);
    expect(seen.slice(1)).toEqual([0, 0]);
    expect(chunks(raw)).toEqual(['retry: 1000\n\n', 'id: 1\nevent: message\ndata: [11,1,"e",1]\n\n', 'id: 2\nevent: message\ndata: [11,2,"e",2]\n\n']);
  });
});
