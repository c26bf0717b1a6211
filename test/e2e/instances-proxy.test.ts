// LXD's proxy devices on a real berthd: host ports and sockets relayed into a real container's
// network namespace by berth-proxy, at start and hotplugged, surviving a daemon kill.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { daemonApi } from '../support/api.js';
import { berthRunner } from '../support/cli.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { ensureDebianImage } from '../support/debian-image.js';
import { answers, freePorts } from '../support/net.js';

/** Pids of the berth-proxy processes of `instance` under `dir`, found in /proc by their pid-file argument. */
function proxyPids(dir: string, instance: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // gone meanwhile
    }
    const pidFile = argv[argv.indexOf('--pid-file') + 1] ?? '';
    if (argv[0]?.endsWith('/berth-proxy') && pidFile.startsWith(join(dir, 'containers', instance, 'proxy-'))) pids.push(Number(entry));
  }
  return pids.sort((a, b) => a - b);
}

describe('proxy devices: host ports and sockets relayed into a real container', () => {
  let d: Daemon;
  let sockets: string;
  let port: number;
  const { berth, ok } = berthRunner(() => d, { timeoutMs: 10 * 60 * 1000 });
  const { wait, finish, removeInstances } = daemonApi(() => d);
  /** An echo server in the container, greeting with the hostname, on a tcp address or unix path (systemd-socket-activate, in the image). */
  const serveInside = async (instance: string, unit: string, address: string) => {
    await ok('exec', instance, '--', 'systemctl', 'is-system-running', '--wait');
    await ok('exec', instance, '--', 'systemd-run', `--unit=${unit}`, '--', 'systemd-socket-activate', '--inetd', '--accept', '-l', address, 'sh', '-c', 'echo "hello from $(hostname)"; exec cat');
  };
  const pidFile = (instance: string, device: string) => join(d.dir, 'containers', instance, `proxy-${device}.pid`);
  const create = async (name: string, devices: Record<string, Record<string, string>>) =>
    d.api().post('/1.0/instances').send({ name, source: { type: 'image', alias: 'debian/12' }, devices });

  before(async () => {
    const image = await ensureDebianImage();
    d = await startDaemon();
    sockets = await mkdtemp(join(tmpdir(), 'berth-proxy-e2e-'));
    await finish(await d.api().post('/1.0/images').set('Content-Type', 'application/octet-stream').set('X-LXD-aliases', 'debian/12').send(readFileSync(image)));
  });
  after(async () => {
    await removeInstances('web', 'web2');
    await d.destroy();
    await rm(sockets, { recursive: true, force: true });
  });

  it('refuses proxy devices it cannot run, recording nothing', async () => {
    const refused = async (device: Record<string, string>, error: string) => {
      const res = await create('bad', { p: { type: 'proxy', ...device } });
      assert.equal(res.status, 400);
      assert.equal(res.body.error, error);
    };
    await refused({ listen: 'tcp:127.0.0.1:8080', connect: 'tcp:127.0.0.1:80', bind: 'instance' }, 'Invalid devices["p"]["bind"]: bind=instance (listening inside the instance) is not supported yet; use bind=host');
    await refused({ listen: 'tcp:127.0.0.1:8080', connect: 'tcp:127.0.0.1:80', nat: 'true' }, 'Invalid devices["p"]["connect"]: nat=true needs a nic with a static ipv4.address on a managed network to connect to; the instance has none');
    await refused({ listen: 'udp:127.0.0.1:53', connect: 'tcp:127.0.0.1:53' }, 'Invalid devices["p"]["connect"]: cannot relay udp to tcp');
    await refused({ listen: 'tcp:127.0.0.1:8080-8081', connect: 'tcp:127.0.0.1:80-82' }, 'Invalid devices["p"]["connect"]: must name one port or 2 ports to match listen');
    await d.api().get('/1.0/instances/bad').expect(404);
  });

  it('publishes the container\'s 127.0.0.1:80 on host ports at start (a range onto one port), listening in the host namespace', async () => {
    port = await freePorts(2);
    const res = await create('web', { http: { type: 'proxy', listen: `tcp:127.0.0.1:${port}-${port + 1}`, connect: 'tcp:127.0.0.1:80' } });
    await finish(res);
    await ok('start', 'web');
    await serveInside('web', 'echo80', '127.0.0.1:80');
    await answers({ host: '127.0.0.1', port }, 'ping', 'hello from web\nping');
    await answers({ host: '127.0.0.1', port: port + 1 }, 'pong', 'hello from web\npong');
    const pid = Number(readFileSync(pidFile('web', 'http'), 'utf8'));
    assert.deepEqual(proxyPids(d.dir, 'web'), [pid]);
    assert.equal(readlinkSync(`/proc/${pid}/ns/net`), readlinkSync('/proc/self/ns/net'));
    // Nothing on the host serves port 80: the bytes came from inside the container.
    const init = (await d.api().get('/1.0/instances/web/state').expect(200)).body.metadata.pid as number;
    assert.notEqual(readlinkSync(`/proc/${init}/ns/net`), readlinkSync('/proc/self/ns/net'));
  });

  it('hotplugs a unix-socket proxy into the running instance with berth config device add, and unplugs it with remove', async () => {
    const path = join(sockets, 'web.sock');
    await serveInside('web', 'echosock', '/run/echo.sock');
    assert.equal(await ok('config', 'device', 'add', 'web', 'sock', 'proxy', `listen=unix:${path}`, 'connect=unix:/run/echo.sock', 'mode=0600'), 'Device sock added to web\n');
    await answers({ path }, 'over unix', 'hello from web\nover unix');
    const pid = Number(readFileSync(pidFile('web', 'sock'), 'utf8'));
    assert.equal(proxyPids(d.dir, 'web').length, 2);
    assert.equal(await ok('config', 'device', 'remove', 'web', 'sock'), 'Device sock removed from web\n');
    assert.equal(existsSync(`/proc/${pid}/cmdline`) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('berth-proxy'), false);
    assert.equal(existsSync(pidFile('web', 'sock')), false);
    assert.equal(existsSync(path), false);
    await answers({ host: '127.0.0.1', port }, 'still', 'hello from web\nstill');
  });

  it('refuses a busy listen port on hotplug and at start, naming the device and errno, leaving nothing', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const busyPort = (busy.address() as net.AddressInfo).port;
    try {
      const before = proxyPids(d.dir, 'web');
      const added = await berth('config', 'device', 'add', 'web', 'taken', 'proxy', `listen=tcp:127.0.0.1:${busyPort}`, 'connect=tcp:127.0.0.1:80');
      assert.deepEqual(added, {
        code: 1,
        stdout: '',
        stderr: `Error: Proxy device "taken" of instance "web" could not start: bind(2) failed: EADDRINUSE (tcp:127.0.0.1:${busyPort})\n`,
      });
      const web = (await d.api().get('/1.0/instances/web').expect(200)).body.metadata;
      assert.deepEqual(Object.keys(web.devices), ['http']);
      assert.equal(existsSync(pidFile('web', 'taken')), false);
      assert.deepEqual(proxyPids(d.dir, 'web'), before);

      await finish(await create('web2', { taken: { type: 'proxy', listen: `tcp:127.0.0.1:${busyPort}`, connect: 'tcp:127.0.0.1:80' } }));
      const start = await wait(await d.api().put('/1.0/instances/web2/state').send({ action: 'start' }));
      assert.equal(start.status, 'Failure');
      assert.equal(start.err, `Proxy device "taken" of instance "web2" could not start: bind(2) failed: EADDRINUSE (tcp:127.0.0.1:${busyPort})`);
      const state = (await d.api().get('/1.0/instances/web2/state').expect(200)).body.metadata;
      assert.equal(state.status, 'Stopped');
      assert.equal(existsSync(pidFile('web2', 'taken')), false);
      assert.deepEqual(proxyPids(d.dir, 'web2'), []);
    } finally {
      busy.close();
    }
  });

  it('keeps relaying while berthd is killed with SIGKILL and restarted; the next daemon stops it with the container', async () => {
    const pid = Number(readFileSync(pidFile('web', 'http'), 'utf8'));
    await d.kill('SIGKILL');
    await answers({ host: '127.0.0.1', port }, 'daemonless', 'hello from web\ndaemonless');
    d = await d.restart();
    assert.deepEqual(proxyPids(d.dir, 'web'), [pid]);
    await answers({ host: '127.0.0.1', port }, 'adopted', 'hello from web\nadopted');
    // A PATCH that leaves the device alone leaves the proxy alone.
    await d.api().patch('/1.0/instances/web').send({ config: { 'user.note': 'x' } }).expect(200);
    assert.deepEqual(proxyPids(d.dir, 'web'), [pid]);

    await ok('stop', 'web');
    assert.deepEqual(proxyPids(d.dir, 'web'), []);
    assert.equal(existsSync(pidFile('web', 'http')), false);
    const again = net.createServer();
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.listen(port, '127.0.0.1', resolve);
    });
    again.close();
  });
});
