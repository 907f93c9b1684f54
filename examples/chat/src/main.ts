/** `npm run chat`: starts the chat, and the simulated network in front of it on the next port. */
import { runExample } from '@wirehop/example-kit';
import { createChatServer } from './server.js';

await runExample(
  // The simulated network listens on the next port (PORT + 1), or any free one when PORT is 0.
  (port, hostname) => createChatServer({ port, hostname, network: port === 0 ? true : port + 1 }),
  (chat) => [
    `wirehop chat listening on ${chat.url} — open it in two tabs`,
    `through a simulated network: ${chat.networkUrl} — degrade it from the Network panel and watch the transport change`,
  ],
);
