/**
 * The one interface every stack implements, so that each scenario is written once. A stack is a
 * server half (runs in the server process) and a client half (runs in the client process); both
 * carry opaque strings. Scenarios put their own sequence numbers and timestamps in those strings.
 */

/** The server half. Every server echoes each client message back to the client that sent it. */
export interface BenchServer {
  /** Listens on 127.0.0.1:`port` (0 = any free port); resolves with the URL clients connect to. */
  start(port: number): Promise<string>;
  /** Sends `data` to every connected client, through the stack's own broadcast path. */
  broadcast(data: string): void;
  /** Clients currently connected and able to receive broadcasts (as the server sees them). */
  readonly connections: number;
  /** Stops listening and drops every connection. */
  close(): Promise<void>;
}

/** One client connection, ready for traffic both ways once `connect` resolved. */
export interface BenchConnection {
  /** Sends one message to the server (which echoes it). */
  send(data: string): void;
  /** The one listener for messages from the server (echoes and broadcasts); replaces any earlier one. */
  onMessage(listener: (data: string) => void): void;
  close(): void;
  /** The transport carrying the connection now, for stacks that have several. */
  readonly transport?: string | null;
  /**
   * Moves the live connection to another transport; only stacks that can do that have it (wirehop
   * with a client that has `switchTransport`). Resolves once the new transport carries the session.
   */
  switchTransport?(to: 'websocket' | 'sse'): Promise<void>;
}

/** The client half: makes connections; may hold shared resources (an HTTP agent) until `dispose`. */
export interface BenchClient {
  /** Resolves once a message can flow both ways (including any protocol handshake and subscription). */
  connect(url: string): Promise<BenchConnection>;
  /** Errors the stack reports outside any call (a dropped connection, a rejected send). */
  readonly errors: number;
  /** Frees shared resources; connections must be closed first. */
  dispose(): Promise<void>;
}

/** A stack as the harness sees it: a name, and how to make each half. */
export interface Stack {
  /** Short id, used on the command line and in result files. */
  id: string;
  /** Column heading in the report. */
  label: string;
  /** One line on what this stack is. */
  description: string;
  server(): BenchServer;
  client(): BenchClient;
}
