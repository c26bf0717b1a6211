// Soak: one daemon, one running container, 300 execs and 300 instance listings; the daemon's
// descriptors and memory come back to where they were, and nothing piles up under BERTH_DIR.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { ensureDebianImage } from '../support/debian-image.js';
import { configureLxc, lxcRunner } from '../support/lxc.js';

const ROUNDS = 300;
const WARM_UP = 20;
/** Open descriptors may differ by a pooled connection or two (Postgres idle timeout is 30 s). */
const FD_TOLERANCE = 2;
/**
 * What the daemon holds after a full garbage collection (JS heap, plus buffers outside it): RSS
 * alone wanders with V8's heap sizing. 4 MB over 600 calls catches a leak of 7 KB a call (an
 * unfreed exec session, a listener, a buffer); RSS is reported beside it.
 */
const RETAINED_TOLERANCE = 4 * 1024 * 1024;

const fds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;
const rssKb = (pid: number) => Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
/** Every berth-monitor (and its helpers) serving `dir`, by pid. */
const monitors = (dir: string) =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const cmdline = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
        return cmdline[0]!.endsWith('berth-monitor') && cmdline.includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);

describe('soak: 300 execs and 300 listings', () => {
  let d: Daemon;
  const waitOp = async (id: string) => (await d.api().get(`/1.0/operations/${id}/wait?timeout=60`).expect(200)).body.metadata;
  const connect = (operation: string, secret: string) =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(`ws+unix://${d.socket}:/1.0/operations/${operation}/websocket?secret=${secret}`);
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });

  /** record-output, read and then deleted as pylxd does. */
  const recorded = async (i: number) => {
    const op = (await d.api().post('/1.0/instances/s1/exec').send({ command: ['echo', `r${i}`], 'record-output': true }).expect(202)).body.metadata;
    const done = await waitOp(op.id);
    assert.equal(done.metadata.return, 0);
    const stdout = await d.api().get(done.metadata.output['1']).buffer(true).parse((res, cb) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c));
      res.on('end', () => cb(null, text));
    });
    assert.equal(stdout.body, `r${i}\n`);
    for (const path of Object.values(done.metadata.output as Record<string, string>)) await d.api().delete(path).expect(200);
  };
  /** wait-for-websocket, stdout read over its socket. */
  const streamed = async (i: number) => {
    const op = (await d.api().post('/1.0/instances/s1/exec').send({ command: ['echo', `w${i}`], 'wait-for-websocket': true }).expect(202)).body.metadata;
    const sockets = await Promise.all(['control', '0', '1', '2'].map((fd) => connect(op.id, op.metadata.fds[fd])));
    const out = new Promise<string>((resolve) => {
      let text = '';
      sockets[2]!.on('message', (data, binary) => binary && (text += data.toString()));
      sockets[2]!.on('close', () => resolve(text));
    });
    sockets[1]!.send('');
    assert.equal(await out, `w${i}\n`);
    assert.equal((await waitOp(op.id)).metadata.return, 0);
    for (const s of sockets) s.close();
  };
  const call = async (i: number) => {
    await (i % 2 ? recorded(i) : streamed(i));
    const list = await d.api().get('/1.0/instances?recursion=1').expect(200);
    assert.equal(list.body.metadata[0].name, 's1');
  };
  /** The daemon's memory after a full collection (it runs with --expose-gc): heap used plus memory outside the heap. */
  const retained = async () => {
    const m = (await d.api().post('/internal/testing/gc').expect(200)).body.metadata as { heapUsed: number; external: number };
    return m.heapUsed + m.external;
  };
  /** Lets sockets finish closing and timers fire before a reading is taken. */
  const settle = () => new Promise((r) => setTimeout(r, 1500));

  before(async () => {
    d = await startDaemon({ env: { NODE_OPTIONS: '--expose-gc' } });
    await configureLxc(d);
    const lxc = lxcRunner(() => d);
    await lxc('image', 'import', await ensureDebianImage(), '--alias', 'debian/12');
    await lxc('launch', 'debian/12', 's1');
  });
  after(async () => {
    await d?.destroy();
  });

  it('descriptors and memory come back to their baseline; no exec output is left behind', async () => {
    for (let i = 0; i < WARM_UP; i++) await call(i);
    await settle();
    const base = { fds: fds(d.pid), rss: rssKb(d.pid), retained: await retained(), monitors: new Map(monitors(d.dir).map((p) => [p, fds(p)])) };
    assert.ok(base.monitors.size > 0, 'the container has a monitor');
    for (let i = WARM_UP; i < WARM_UP + ROUNDS; i++) await call(i);
    await settle();
    const now = { fds: fds(d.pid), rss: rssKb(d.pid), retained: await retained() };
    assert.ok(Math.abs(now.fds - base.fds) <= FD_TOLERANCE, `daemon fds ${base.fds} -> ${now.fds}`);
    assert.ok(now.retained - base.retained <= RETAINED_TOLERANCE, `daemon memory after GC ${base.retained} -> ${now.retained} bytes (VmRSS ${base.rss} -> ${now.rss} kB)`);
    console.log(`soak: fds ${base.fds} -> ${now.fds}, memory after GC ${base.retained} -> ${now.retained} bytes, VmRSS ${base.rss} -> ${now.rss} kB`);
    for (const [pid, count] of base.monitors) assert.equal(fds(pid), count, `berth-monitor ${pid} fds`);
    assert.deepEqual(readdirSync(join(d.dir, 'logs', 's1', 'exec-output')), []);
    const operations = (await d.api().get('/1.0/operations').expect(200)).body.metadata;
    assert.equal(operations.running, undefined, 'no operation still running');
  });
});
