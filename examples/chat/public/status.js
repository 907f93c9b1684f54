/**
 * The connection side panel: what the session runs on and how the network looks to it (transport,
 * RTT, loss, jitter, queue, switches), a log of every transport change with its reason, buttons to
 * move the session by hand, and the simulated network's presets when the server has one.
 *
 * Everything here reads the public client API: `client.stats`, `client.transport`, the 'transport'
 * event and `client.switchTransport()`.
 */

const MAX_SWITCHES = 12;
const $ = (/** @type {string} */ id) => /** @type {any} */ (document.getElementById(id));

/** @param {string} tag @param {string} [text] @param {string} [className] */
function el(tag, text = '', className = '') {
  const node = document.createElement(tag);
  node.textContent = text;
  if (className) node.className = className;
  return node;
}

const ms = (/** @type {number | null | undefined} */ v) => (typeof v === 'number' ? `${Math.round(v)} ms` : '—');

/**
 * Wires the panel to a client; returns a function that unwires it.
 * @param {any} client a WirehopClient
 */
export function watchConnection(client) {
  const link = $('link');
  const switches = $('switches');
  const toWs = $('to-websocket');
  const toSse = $('to-sse');
  switches.replaceChildren();

  const render = () => {
    const s = client.stats;
    const rows = [
      ['state', client.state],
      ['transport', client.transport ?? '—'],
      ['rtt', ms(s.rtt)],
      ['loss', `${Math.round((s.loss ?? 0) * 100)} %`],
      ['jitter', ms(s.jitter)],
      ['queued', String(s.queued)],
      ['switches', String(s.switches ?? 0)],
      ['reconnects', String(s.reconnects)],
    ];
    link.replaceChildren(...rows.flatMap(([k, v]) => [el('dt', k), el('dd', v)]));
    toWs.disabled = client.transport !== 'sse';
    toSse.disabled = client.transport !== 'websocket';
  };

  const offTransport = client.on('transport', (/** @type {any} */ e) => {
    const item = el('li');
    const when = new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
    item.append(`${when} `, el('b', `${e.from ?? '∅'} → ${e.to ?? '∅'}`), ` ${e.reason}`);
    if (e.quality && typeof e.quality.rtt === 'number') item.append(` (rtt ${ms(e.quality.rtt)}, loss ${Math.round(e.quality.loss * 100)} %)`);
    switches.prepend(item);
    while (switches.children.length > MAX_SWITCHES) switches.lastElementChild.remove();
    render();
  });
  const offState = client.on('state', render);
  // RTT and loss change without an event: a slow poll keeps the panel honest.
  const timer = setInterval(render, 1000);
  const move = (/** @type {'websocket' | 'sse'} */ to) => () => {
    client.switchTransport(to).catch((/** @type {Error} */ error) => switches.prepend(el('li', `could not move to ${to}: ${error.message}`)));
  };
  const onWs = move('websocket');
  const onSse = move('sse');
  toWs.addEventListener('click', onWs);
  toSse.addEventListener('click', onSse);
  render();
  return () => {
    offTransport();
    offState();
    clearInterval(timer);
    toWs.removeEventListener('click', onWs);
    toSse.removeEventListener('click', onSse);
  };
}

/**
 * Shows the simulated network's presets if the server runs one. The control API is on the chat's
 * direct port: through the simulated network, a dead link would also cut off the button that heals it.
 */
export async function showNetworkPanel() {
  let info;
  try {
    info = await (await fetch('/network', { cache: 'no-store' })).json();
  } catch {
    return;
  }
  if (!info.enabled) return;
  const control = `${location.protocol}//${location.host.replace(/:\d+$/, '')}:${info.directPort}/network`;
  const throughProxy = location.port === String(info.proxyPort);
  $('network-hint').textContent = throughProxy
    ? 'This page runs through the simulated network: degrade it and watch the session move.'
    : `This page connects directly. Open it on port ${info.proxyPort} to run through the simulated network.`;
  const presets = $('presets');
  const render = (/** @type {string} */ active) => {
    for (const button of presets.children) button.setAttribute('aria-pressed', String(button.dataset.preset === active));
  };
  presets.replaceChildren(
    ...info.presets.map((/** @type {{name: string, label: string}} */ p) => {
      const button = el('button', p.label);
      button.type = 'button';
      button.dataset.preset = p.name;
      button.addEventListener('click', async () => {
        const answer = await fetch(control, { method: 'POST', body: p.name, headers: { 'content-type': 'text/plain' } });
        if (answer.ok) render((await answer.json()).preset);
      });
      return button;
    }),
  );
  render(info.preset);
  $('network').hidden = false;
}
