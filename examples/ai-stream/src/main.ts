/**
 * `npm start` in this folder: starts the demo and prints where to open it. PORT (default 3000) and
 * HOST (default: all interfaces) come from the environment; Ctrl-C closes every session cleanly.
 */
import { createAiStreamServer } from './server.js';

const port = process.env.PORT === undefined || process.env.PORT === '' ? 3000 : Number(process.env.PORT);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`PORT must be an integer from 0 to 65535, got "${process.env.PORT}"`);
  process.exit(1);
}

const ai = await createAiStreamServer({ port, hostname: process.env.HOST || undefined });
console.log(`wirehop ai-stream demo listening on ${ai.url} — ask, then cut the connection mid-answer`);

const stop = (): void => {
  ai.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
