/**
 * The start-up script of an example: PORT (default 3000; 0 picks a free one) and HOST (default: all
 * interfaces) from the environment, a few lines saying where to go, and a clean shutdown on Ctrl-C
 * (every session is told `server_closing`).
 */
export interface Running {
  close(): Promise<void>;
}

export async function runExample<S extends Running>(start: (port: number, hostname: string | undefined) => Promise<S>, describe: (server: S) => string[]): Promise<void> {
  const port = process.env.PORT === undefined || process.env.PORT === '' ? 3000 : Number(process.env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error(`PORT must be an integer from 0 to 65535, got "${process.env.PORT}"`);
    process.exit(1);
  }
  const server = await start(port, process.env.HOST || undefined);
  for (const line of describe(server)) console.log(line);
  const stop = (): void => {
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
