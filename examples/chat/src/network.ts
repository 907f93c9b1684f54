/**
 * The "network" panel's back end: a netsim proxy in front of the chat, and a small control API
 * that switches it between named conditions. Open the chat through the proxy's port and your own
 * connection goes through the simulated network; degrade it and watch the session change transport.
 *
 * The control API lives on the direct port, not behind the proxy: a blackholed or refused link must
 * not cut you off from the button that heals it.
 */
import { startProxy, type Impairment, type NetsimProxy } from '@wirehop/netsim';
import { Hono } from 'hono';

/** Named conditions, from a perfect link to none at all. */
export const PRESETS = {
  good: { label: 'Good', impairment: {} },
  slow: { label: 'Slow (+400 ms RTT)', impairment: { latencyMs: 200, jitterMs: 20 } },
  mobile: { label: '3G (+300 ms RTT, 64 KB/s)', impairment: { latencyMs: 150, jitterMs: 60, bandwidthBytesPerSec: 64_000 } },
  lossy: { label: 'Lossy (30 % stalls)', impairment: { lossRate: 0.3, stallMs: 400 } },
  'no-websocket': { label: 'Proxy strips WebSocket', impairment: { upgrade: 'strip' } },
  'dead-websocket': { label: 'WebSocket blackholed', impairment: { blackhole: 'websocket' } },
  offline: { label: 'Offline', impairment: { refuse: true } },
} satisfies Record<string, { label: string; impairment: Partial<Impairment> }>;

export type PresetName = keyof typeof PRESETS;

const isPreset = (name: string): name is PresetName => Object.hasOwn(PRESETS, name);

/** The simulated network: which preset is on, and the proxy that applies it. */
export class SimulatedNetwork {
  preset: PresetName = 'good';
  private constructor(readonly proxy: NetsimProxy) {}

  /** Starts the proxy on `port` (0: any free one) in front of the chat's own port. */
  static async start(targetPort: number, listen: { host?: string; port?: number }): Promise<SimulatedNetwork> {
    return new SimulatedNetwork(await startProxy({ target: { port: targetPort }, listen: { host: listen.host ?? '127.0.0.1', port: listen.port ?? 0 } }));
  }

  apply(name: PresetName): void {
    this.proxy.heal();
    this.proxy.set(PRESETS[name].impairment);
    // Going offline also drops what is open, as pulling a cable would.
    if (name === 'offline') this.proxy.cutAll();
    this.preset = name;
  }

  close(): Promise<void> {
    return this.proxy.close();
  }
}

/**
 * GET /network: the presets, the active one, and the ports to use. POST /network with a preset name
 * as the text body switches to it. The page calls these cross-origin (it may be served through the
 * proxy's port), so answers carry a permissive CORS header; a text/plain POST needs no preflight.
 */
export function networkRoutes(network: () => SimulatedNetwork | undefined, directPort: () => number): Hono {
  const app = new Hono();
  app.use('/network', async (c, next) => {
    await next();
    c.header('Access-Control-Allow-Origin', '*');
    c.header('Cache-Control', 'no-store');
  });
  app.get('/network', (c) => {
    const net = network();
    if (!net) return c.json({ enabled: false });
    return c.json({
      enabled: true,
      preset: net.preset,
      presets: Object.entries(PRESETS).map(([name, { label }]) => ({ name, label })),
      directPort: directPort(),
      proxyPort: net.proxy.port,
    });
  });
  app.post('/network', async (c) => {
    const net = network();
    if (!net) return c.json({ error: 'the simulated network is off' }, 404);
    const name = (await c.req.text()).trim();
    if (!isPreset(name)) return c.json({ error: `unknown preset ${JSON.stringify(name.slice(0, 40))}` }, 400);
    net.apply(name);
    return c.json({ preset: net.preset });
  });
  return app;
}
