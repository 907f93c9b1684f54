/**
 * `npm run chat`: starts the chat and prints where to open it. PORT (default 3000) and HOST
 * (default: all interfaces) come from the environment; Ctrl-C closes every session cleanly.
 */
import { createChatServer } from './server.js';

const port = process.env.PORT === undefined || process.env.PORT === '' ? 3000 : Number(process.env.PORT);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`PORT must be an integer from 0 to 65535, got "${process.env.PORT}"`);
  process.exit(1);
}

// The simulated network listens on the next port (PORT + 1), or any free one when PORT is 0.
const chat = await createChatServer({ port, hostname: process.env.HOST || undefined, network: port === 0 ? true : port + 1 });
console.log(`wirehop chat listening on ${chat.url} — open it in two tabs`);
console.log(`through a simulated network: ${chat.networkUrl} — degrade it from the Network panel and watch the transport change`);

const stop = (): void => {
  chat.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
