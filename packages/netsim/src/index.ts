/**
 * @wirehop/netsim — a userland network impairment proxy for tests and demos. The kernel here has no
 * netem, so latency, jitter, bandwidth, loss (as TCP stalls), resets, blackholes and proxies that
 * strip or stall WebSocket upgrades are simulated in a TCP proxy on loopback.
 */
export { startProxy, type NetsimProxy, type ProxyOptions, type ProxyStats } from './proxy.js';
export { NO_IMPAIRMENT, schedule, validateImpairment, type Impairment, type LinkState } from './impairment.js';
