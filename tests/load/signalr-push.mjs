// SignalR push fan-out: N agent consoles (Node @microsoft/signalr clients, WebSockets) connected to /hubs/agent, all
// signed in as one agent, so each ticket that agent registers pushes one TicketChanged to all N connections
// (src/Hotline.Server/Storage/ProjectionRunner.cs: pushes come from the event subscription, not from the write).
// Latency of a delivery = its arrival - the moment the POST /api/tickets was sent (write + projection + fan-out).
// Reference in the same run: a raw WebSocket echo server (Node `ws`, child process) that sends every message it
// gets to all its N connections; latency = arrival - the moment the trigger message was sent.
//
// The N client connections are spread over --workers W worker threads (default 2), in both measurements alike, so
// the receiving side (one JS event loop parses every frame) is not the bottleneck it is with all N in one thread.
// Times are process.hrtime (one monotonic clock for every thread of the process).
//
//   HOTLINE_TOKEN=<agent bearer token> node tests/load/signalr-push.mjs --url http://127.0.0.1:8345 --agents 2000 --pushes 20
// Prints progress on stderr and one JSON object on stdout (read by tests/Hotline.Benchmarks, suite "signalr-push").
// With --hold-seconds S it keeps the N connections open S seconds after the pushes (the benchmark measures the
// server's memory meanwhile) and prints "holding" on stderr when it starts holding; a line "release" on stdin ends the
// hold early.
// With --server-pid P it reads the server's CPU time (/proc/P/stat) around the pushes, for the profile.
// --warmup N: N pushes first, not counted (a fresh server is still tiering up its JIT code; default 0). With
// --warmup-max M (and --server-pid), the SignalR warm-up then goes on in blocks of 10 pushes until the server's CPU per
// push stops falling (a block within 15 % of the block before) or M pushes were sent; the count is printed.
// --pushes-gap-ms: pause between pushes (default 200).
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import * as signalR from '@microsoft/signalr';
import WebSocket, { WebSocketServer } from 'ws';

const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (!isMainThread) {
  await clientWorker(workerData);
} else if (process.argv.includes('--ws-server')) {
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

function mean(values) { return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length; }

function summary(latencies, expected) {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { deliveries: sorted.length, expected, missed: expected - sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? null };
}

async function inChunks(count, size, make) {
  const all = [];
  for (let i = 0; i < count; i += size) {
    const chunk = await Promise.allSettled(Array.from({ length: Math.min(size, count - i) }, (_, j) => make(i + j)));
    for (const r of chunk) if (r.status === 'fulfilled') all.push(r.value); else process.stderr.write(`connect failed: ${r.reason}\n`);
  }
  return all;
}

/** Server CPU time (user + system) in ms from /proc/<pid>/stat, or null. */
function cpuOf(pid) {
  if (!pid) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms (USER_HZ 100)
  } catch { return null; }
}

// --- worker thread: holds its share of the connections, records arrival times per ticket id ---
async function clientWorker({ kind, url, token, count }) {
  const arrivals = new Map(); // id -> arrival times
  let others = 0; // MissedCallsChanged pushes received (the benchmark's simulated calls end on the 漏接 list)
  const record = (id) => {
    const t = now();
    const list = arrivals.get(id);
    if (list) list.push(t); else arrivals.set(id, [t]);
  };
  const connections = kind === 'signalr'
    ? await inChunks(count, 50, async () => {
      const connection = new signalR.HubConnectionBuilder()
        .withUrl(`${url}/hubs/agent`, { accessTokenFactory: () => token, transport: signalR.HttpTransportType.WebSockets, skipNegotiation: true })
        .configureLogging(signalR.LogLevel.None)
        .build();
      connection.serverTimeoutInMilliseconds = 120_000;
      connection.on('TicketChanged', (view) => record(String(view.ticketId)));
      connection.on('MissedCallsChanged', () => { others++; });
      await connection.start();
      return connection;
    })
    : await inChunks(count, 50, () => new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { perMessageDeflate: false });
      socket.on('open', () => resolve(socket));
      socket.on('error', reject);
      socket.on('message', (data) => record(JSON.parse(data.toString()).ticketId));
    }));
  parentPort.postMessage({ type: 'connected', count: connections.length });
  parentPort.on('message', async (m) => {
    if (m.type === 'collect') {
      const until = now() + m.timeoutMs;
      while ((arrivals.get(m.id)?.length ?? 0) < connections.length && now() < until) await sleep(2);
      const list = arrivals.get(m.id) ?? [];
      arrivals.delete(m.id);
      parentPort.postMessage({ type: 'collected', id: m.id, times: list });
    } else if (m.type === 'stop') {
      if (kind === 'signalr') await Promise.allSettled(connections.map((c) => c.stop()));
      else for (const s of connections) s.terminate();
      parentPort.postMessage({ type: 'stopped', others });
      process.exit(0);
    }
  });
}

/** Starts W workers holding `agents` connections between them; resolves when all are connected. */
async function startClients(kind, url, token, agents, workers) {
  const pool = [];
  for (let w = 0; w < workers; w++) {
    const count = Math.floor(agents / workers) + (w < agents % workers ? 1 : 0);
    const worker = new Worker(new URL(import.meta.url), { workerData: { kind, url, token, count } });
    worker.on('error', (e) => process.stderr.write(`worker ${w}: ${e.stack ?? e}\n`));
    const connected = await new Promise((resolve) => worker.once('message', (m) => resolve(m.count)));
    pool.push({ worker, connected });
  }
  return {
    connected: pool.reduce((a, p) => a + p.connected, 0),
    /** Arrival times of `id` from every worker (each waits until its connections all have it, or the timeout). */
    async collect(id, timeoutMs) {
      const parts = await Promise.all(pool.map(({ worker }) => new Promise((resolve) => {
        const on = (m) => { if (m.type === 'collected' && m.id === id) { worker.off('message', on); resolve(m.times); } };
        worker.on('message', on);
        worker.postMessage({ type: 'collect', id, timeoutMs });
      })));
      return parts.flat();
    },
    /** Stops every worker; resolves to the MissedCallsChanged pushes they received in all. */
    async stop() {
      const counts = await Promise.all(pool.map(({ worker }) => new Promise((resolve) => {
        let others = 0;
        worker.on('message', (m) => { if (m.type === 'stopped') others = m.others; });
        worker.once('exit', () => resolve(others));
        worker.postMessage({ type: 'stop' });
      })));
      return counts.reduce((a, b) => a + b, 0);
    },
  };
}

/**
 * Runs `pushes` pushes: trigger(i) sends one and returns {id, t0}; records every delivery's latency and, per push,
 * the first and last delivery; the client process's and the server's CPU time over the pushes.
 */
async function measure(clients, pushes, gapMs, serverPid, trigger, idle = true) {
  const latencies = [];
  const firsts = [];
  const afterAnswer = [];
  const spreads = [];
  const perPush = [];
  const cpu0 = process.cpuUsage();
  const server0 = cpuOf(serverPid);
  const wall0 = now();
  let busy = 0;
  for (let i = 0; i < pushes; i++) {
    const { id, t0, t1 } = await trigger(i);
    const times = await clients.collect(id, 15_000);
    busy += now() - t0;
    if (times.length > 0) {
      const sorted = times.sort((a, b) => a - b);
      firsts.push(sorted[0] - t0);
      if (t1 !== undefined) afterAnswer.push(sorted[0] - t1);
      spreads.push(sorted.at(-1) - sorted[0]);
      perPush.push([Math.round(sorted[0] - t0), Math.round(sorted.at(-1) - t0)]);
      for (const t of sorted) latencies.push(t - t0);
    }
    await sleep(gapMs);
  }
  const cpu = process.cpuUsage(cpu0);
  const server1 = cpuOf(serverPid);
  const wall = now() - wall0;
  // The server's CPU with the connections open and nothing pushed (keep-alive pings, timers, background services),
  // measured right after the pushes (a warm server; before them it may still be compiling), so the CPU per push can
  // be read without it.
  if (idle) await sleep(500);
  const idleMs = idle ? 3000 : 0;
  const idle0 = cpuOf(serverPid);
  await sleep(idleMs);
  const idle1 = cpuOf(serverPid);
  const idleRate = idle0 === null || idle1 === null || idleMs === 0 ? null : (idle1 - idle0) / idleMs; // server CPU ms per wall ms
  return {
    ...summary(latencies, clients.connected * pushes),
    connected: clients.connected,
    profile: {
      firstMean: mean(firsts),
      // first delivery after the POST's answer (the registration committed): subscription wake-up + apply + fan-out start
      firstAfterAnswerMean: mean(afterAnswer),
      spreadMean: mean(spreads),
      clientCpuPerPushMs: (cpu.user + cpu.system) / 1000 / pushes,
      serverCpuPerPushMs: server0 === null || server1 === null ? null : (server1 - server0) / pushes,
      // the same less what the server spends idle over as long (its idle rate measured just before)
      serverIdleCpuPerSecondMs: idleRate === null ? null : idleRate * 1000,
      serverCpuPerPushNetMs: server0 === null || server1 === null || idleRate === null ? null : (server1 - server0 - idleRate * wall) / pushes,
      busyPerPushMs: busy / pushes,
    },
    perPush, // [first, last] delivery of each push, ms after its trigger
  };
}

async function main() {
  const url = arg('--url', 'http://127.0.0.1:8345').replace(/\/$/, '');
  const token = process.env.HOTLINE_TOKEN ?? (() => { throw new Error('set HOTLINE_TOKEN'); })();
  const agents = Number(arg('--agents', '2000'));
  const pushes = Number(arg('--pushes', '20'));
  const holdSeconds = Number(arg('--hold-seconds', '0'));
  const workers = Math.max(1, Number(arg('--workers', '2')));
  const gapMs = Number(arg('--pushes-gap-ms', '200'));
  const serverPid = Number(arg('--server-pid', '0')) || null;
  const warmup = Number(arg('--warmup', '0'));
  const warmupMax = Number(arg('--warmup-max', String(warmup)));
  let signalrWarmup = 0;

  // --- SignalR ---
  let started = now();
  const hub = await startClients('signalr', url, token, agents, workers);
  process.stderr.write(`signalr: ${hub.connected} of ${agents} connected in ${((now() - started) / 1000).toFixed(1)} s (${workers} worker threads)\n`);

  const registrations = [];
  const body = JSON.stringify({ channel: '电话', type: '咨询', urgency: '一般', categoryCode: '010201', areaCode: '010101', address: '湖滨路 88 号', content: '推送基准：咨询物业维修基金使用流程。', callerName: '王建华', callerPhone: '13900000000' });
  const register = async (i) => {
    const t0 = now();
    const response = await fetch(`${url}/api/tickets`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, 'Idempotency-Key': `push-${process.pid}-${Date.now()}-${i}` },
      body,
    });
    const t1 = now();
    registrations.push(t1 - t0);
    if (response.status !== 201) throw new Error(`registration answered ${response.status}: ${await response.text()}`);
    const { id } = await response.json();
    return { id: String(id), t0, t1 };
  };
  if (warmup > 0) {
    const w = await measure(hub, warmup, gapMs, serverPid, register, false);
    process.stderr.write(`signalr warm-up (not counted): ${warmup} pushes, p50 ${w.p50?.toFixed(1)} ms, p99 ${w.p99?.toFixed(1)} ms, server CPU ${w.profile.serverCpuPerPushMs} ms/push\n`);
    let sent = warmup;
    let previous = null;
    while (serverPid && sent + 10 <= warmupMax) {
      const base = sent;
      const block = await measure(hub, 10, gapMs, serverPid, (i) => register(base + i), false);
      sent += 10;
      const cpu = block.profile.serverCpuPerPushMs;
      process.stderr.write(`signalr warm-up block to ${sent}: p99 ${block.p99?.toFixed(1)} ms, server CPU ${cpu} ms/push\n`);
      if (previous !== null && cpu >= 0.85 * previous) break;
      previous = cpu;
    }
    signalrWarmup = sent;
    registrations.length = 0;
  }
  const signalrResult = await measure(hub, pushes, gapMs, serverPid, register);
  signalrResult.registrationP50 = percentile([...registrations].sort((a, b) => a - b), 0.5);
  signalrResult.workers = workers;
  signalrResult.warmup = signalrWarmup;
  process.stderr.write(`signalr: ${JSON.stringify(signalrResult)}\n`);

  if (holdSeconds > 0) {
    process.stderr.write('holding\n');
    // Until the hold time passed or a line "release" arrives on stdin (the benchmark releases the consoles early).
    await Promise.race([sleep(holdSeconds * 1000), new Promise((resolve) => {
      process.stdin.setEncoding('utf8');
      process.stdin.on('data', (d) => { if (d.includes('release')) resolve(); });
    })]);
    process.stdin.pause();
  }
  signalrResult.missedCallsChanged = await hub.stop();
  process.stderr.write(`signalr: ${signalrResult.missedCallsChanged} MissedCallsChanged pushes received by the ${hub.connected} consoles\n`);

  // --- raw WebSocket reference ---
  const server = fork(new URL(import.meta.url).pathname, ['--ws-server'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const port = await new Promise((resolve) => server.once('message', (m) => resolve(m.port)));
  started = now();
  const raw = await startClients('raw', `ws://127.0.0.1:${port}`, null, agents, workers);
  process.stderr.write(`raw: ${raw.connected} of ${agents} connected in ${((now() - started) / 1000).toFixed(1)} s\n`);
  const trigger = await new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
    socket.on('open', () => resolve(socket));
    socket.on('error', reject);
  });
  const echo = async (i) => {
    const id = `raw-${i}`;
    const t0 = now();
    trigger.send(JSON.stringify({ type: 1, target: 'TicketChanged', arguments: [{ ticketId: id, number: '20261122-000001', state: 'Registered', stateName: '已登记', version: 1 }], ticketId: id }));
    return { id, t0 };
  };
  if (warmup > 0) await measure(raw, warmup, gapMs, server.pid, (i) => echo(-1 - i), false);
  const rawResult = await measure(raw, pushes, gapMs, server.pid, echo);
  process.stderr.write(`raw: ${JSON.stringify(rawResult)}\n`);
  await raw.stop();
  trigger.terminate();
  server.kill();

  process.stdout.write(JSON.stringify({ signalr: signalrResult, raw: rawResult }) + '\n');
  process.exit(0);
}
