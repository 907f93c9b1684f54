/**
 * The server of bench/storm.ts: one wirehop process on the in-memory broker at 127.0.0.1:$PORT
 * with a channel `storm`, as test/helpers/node-process.ts starts it (a ready line on stdout). A
 * crash loses its sessions, as it would for any single node: that is the storm the bench measures.
 */
import { createWirehop } from '@wirehop/server';

const wh = createWirehop({}).channel('storm');
const listening = await wh.listen({ port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ ready: true, port: listening.port })}\n`);
process.once('SIGTERM', () => void listening.close().then(() => process.exit(0)));
