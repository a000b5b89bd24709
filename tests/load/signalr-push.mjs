// SignalR push fan-out: N agent consoles (Node @microsoft/signalr clients, WebSockets) connected to /hubs/agent, all
// signed in as one agent, so each ticket that agent registers pushes one TicketChanged to all N connections
// (src/Hotline.Server/Storage/ProjectionRunner.cs: pushes come from the event subscription, not from the write).
// Latency of a delivery = its arrival - the moment the POST /api/tickets was sent (write + projection + fan-out).
// Reference in the same run: a raw WebSocket echo server (Node `ws`, child process) that sends every message it
// gets to all its N connections; latency = arrival - the moment the trigger message was sent.
//
//   HOTLINE_TOKEN=<agent bearer token> node tests/load/signalr-push.mjs --url http://127.0.0.1:8345 --agents 2000 --pushes 20
// Prints progress on stderr and one JSON object on stdout (read by tests/Hotline.Benchmarks, suite "signalr-push").
// With --hold-seconds S it keeps the N connections open S seconds after the pushes (the benchmark measures the
// server's memory meanwhile) and prints "holding" on stderr when it starts holding.
import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import * as signalR from '@microsoft/signalr';
import WebSocket, { WebSocketServer } from 'ws';

if (process.argv.includes('--ws-server')) {
  // The raw reference server: echo every message to every connection.
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  wss.on('listening', () => process.send({ port: wss.address().port }));
  wss.on('connection', (socket) => socket.on('message', (data) => {
    for (const client of wss.clients) if (client.readyState === WebSocket.OPEN) client.send(data);
  }));
} else {
  await main();
}

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

function percentile(sorted, p) {
  return sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

function summary(latencies, expected) {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { deliveries: sorted.length, expected, missed: expected - sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? null };
}

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

async function inChunks(count, size, make) {
  const all = [];
  for (let i = 0; i < count; i += size) {
    const chunk = await Promise.allSettled(Array.from({ length: Math.min(size, count - i) }, (_, j) => make(i + j)));
    for (const r of chunk) if (r.status === 'fulfilled') all.push(r.value); else process.stderr.write(`connect failed: ${r.reason}\n`);
  }
  return all;
}

/** Waits until `arrivals` holds `count` entries or `timeoutMs` passed. */
async function waitFor(arrivals, count, timeoutMs) {
  const until = performance.now() + timeoutMs;
  while (arrivals.length < count && performance.now() < until) await sleep(5);
}

async function main() {
  const url = arg('--url', 'http://127.0.0.1:8345').replace(/\/$/, '');
  const token = process.env.HOTLINE_TOKEN ?? (() => { throw new Error('set HOTLINE_TOKEN'); })();
  const agents = Number(arg('--agents', '2000'));
  const pushes = Number(arg('--pushes', '20'));
  const holdSeconds = Number(arg('--hold-seconds', '0'));

  // --- SignalR ---
  const arrivals = new Map(); // ticketId -> arrival times
  const started = performance.now();
  const connections = await inChunks(agents, 100, async () => {
    const connection = new signalR.HubConnectionBuilder()
      .withUrl(`${url}/hubs/agent`, { accessTokenFactory: () => token, transport: signalR.HttpTransportType.WebSockets, skipNegotiation: true })
      .configureLogging(signalR.LogLevel.None)
      .build();
    connection.serverTimeoutInMilliseconds = 120_000;
    connection.on('TicketChanged', (view) => {
      const t = performance.now();
      const list = arrivals.get(view.ticketId) ?? [];
      list.push(t);
      arrivals.set(view.ticketId, list);
    });
    await connection.start();
    return connection;
  });
  process.stderr.write(`signalr: ${connections.length} of ${agents} connected in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);

  const latencies = [];
  const registrations = [];
  const body = JSON.stringify({ channel: '电话', type: '咨询', urgency: '一般', categoryCode: '010201', areaCode: '010101', address: '湖滨路 88 号', content: '推送基准：咨询物业维修基金使用流程。', callerName: '王建华', callerPhone: '13900000000' });
  for (let i = 0; i < pushes; i++) {
    const t0 = performance.now();
    const response = await fetch(`${url}/api/tickets`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, 'Idempotency-Key': `push-${process.pid}-${Date.now()}-${i}` },
      body,
    });
    registrations.push(performance.now() - t0);
    if (response.status !== 201) throw new Error(`registration answered ${response.status}: ${await response.text()}`);
    const { id } = await response.json();
    if (!arrivals.has(id)) arrivals.set(id, []);
    await waitFor(arrivals.get(id), connections.length, 15_000);
    for (const t of arrivals.get(id)) latencies.push(t - t0);
    await sleep(200);
  }
  const signalrResult = { connected: connections.length, ...summary(latencies, connections.length * pushes), registrationP50: percentile([...registrations].sort((a, b) => a - b), 0.5) };
  process.stderr.write(`signalr: ${JSON.stringify(signalrResult)}\n`);

  if (holdSeconds > 0) {
    process.stderr.write('holding\n');
    await sleep(holdSeconds * 1000);
  }
  await Promise.allSettled(connections.map((c) => c.stop()));

  // --- raw WebSocket reference ---
  const server = fork(new URL(import.meta.url).pathname, ['--ws-server'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const port = await new Promise((resolve) => server.once('message', (m) => resolve(m.port)));
  const rawArrivals = new Map();
  const sockets = await inChunks(agents, 100, () => new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
    socket.on('open', () => resolve(socket));
    socket.on('error', reject);
    socket.on('message', (data) => {
      const t = performance.now();
      const id = JSON.parse(data.toString()).ticketId;
      const list = rawArrivals.get(id) ?? [];
      list.push(t);
      rawArrivals.set(id, list);
    });
  }));
  const trigger = await new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
    socket.on('open', () => resolve(socket));
    socket.on('error', reject);
  });
  const rawLatencies = [];
  for (let i = 0; i < pushes; i++) {
    const id = `raw-${i}`;
    rawArrivals.set(id, []);
    const t0 = performance.now();
    trigger.send(JSON.stringify({ type: 1, target: 'TicketChanged', arguments: [{ ticketId: id, number: '20261122-000001', state: 'Registered', stateName: '已登记', version: 1 }], ticketId: id }));
    await waitFor(rawArrivals.get(id), sockets.length, 15_000);
    for (const t of rawArrivals.get(id)) rawLatencies.push(t - t0);
    await sleep(200);
  }
  const rawResult = { connected: sockets.length, ...summary(rawLatencies, sockets.length * pushes) };
  process.stderr.write(`raw: ${JSON.stringify(rawResult)}\n`);
  for (const s of sockets) s.terminate();
  trigger.terminate();
  server.kill();

  process.stdout.write(JSON.stringify({ signalr: signalrResult, raw: rawResult }) + '\n');
  process.exit(0);
}
