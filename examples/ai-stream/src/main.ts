/** `npm run ai-stream` (or `npm start` in this folder): starts the demo and prints where to open it. */
import { runExample } from '@wirehop/example-kit';
import { createAiStreamServer } from './server.js';

await runExample(
  (port, hostname) => createAiStreamServer({ port, hostname }),
  (ai) => [`wirehop ai-stream demo listening on ${ai.url} — ask, then cut the connection mid-answer`],
);
