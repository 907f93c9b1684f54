/**
 * What a node tells the broker about its sessions, and in which order: a session that ends leaves
 * its tombstone before it lets go of its claim, so that a resume reaching another node after the
 * release finds how the session ended (docs/scaling.md).
 */
import { PROTOCOL_VERSION, decodeServerFrame, encodeFrame } from '@wirehop/protocol';
import { afterEach, expect, it } from 'vitest';
import { createWirehop } from './index.js';
import { MemoryBroker } from './memory-broker.js';
import type { ListeningServer } from './types.js';

/** The in-memory broker, posing as one shared by several nodes, with its session calls recorded. */
class RecordingBroker extends MemoryBroker {
  override readonly distributed: boolean = true;
  readonly calls: string[] = [];
  override async claimSession(): Promise<void> {
    this.calls.push('claim');
  }
  override async endSession(): Promise<void> {
    this.calls.push('tombstone');
  }
  override async releaseSession(): Promise<void> {
    this.calls.push('release');
  }
}

let listening: ListeningServer | undefined;
afterEach(async () => {
  await listening?.close();
  listening = undefined;
});

it('a session that ends writes its tombstone to the broker before it releases its claim', async () => {
  const broker = new RecordingBroker();
  const wh = createWirehop({ broker, onError: () => undefined });
  listening = await wh.listen({ port: 0, hostname: '127.0.0.1' });
  const answer = await fetch(listening.url + '/session', { method: 'POST', body: encodeFrame({ type: 'hello', v: PROTOCOL_VERSION }) });
  const welcome = decodeServerFrame(await answer.text());
  if (!welcome.ok || welcome.frame.type !== 'welcome') throw new Error('no WELCOME');
  wh.session(welcome.frame.sid)!.close('done');
  expect(broker.calls).toEqual(['claim', 'tombstone', 'release']);
});
