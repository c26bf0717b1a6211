import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { ValidationError } from '#core';
import { proxyArgs, proxyDeviceOf, proxyPidFile, ProxyStartError, runningProxies, startProxy, stopProxies, stopProxy, syncProxies } from './proxy.js';

const run = promisify(execFile);

describe('proxy devices: validation', () => {
  const refuses = (spec: Record<string, string>, message: string) =>
    assert.throws(() => proxyDeviceOf('web', spec), (e: unknown) => e instanceof ValidationError && e.message === message);

  it('accepts tcp and unix pairs, ranges, and LXD spellings of false', () => {
    assert.deepEqual(proxyDeviceOf('web', { type: 'proxy', listen: 'tcp:0.0.0.0:8080', connect: 'tcp:127.0.0.1:80' }), { listen: 'tcp:0.0.0.0:8080', connect: 'tcp:127.0.0.1:80' });
    assert.deepEqual(proxyDeviceOf('web', { listen: 'tcp:[::]:8000-8002', connect: 'tcp:[::1]:80', bind: 'host', nat: 'false', proxy_protocol: 'no', 'security.uid': '0' }), {
      listen: 'tcp:[::]:8000-8002',
      connect: 'tcp:[::1]:80',
    });
    assert.deepEqual(proxyDeviceOf('db', { listen: 'unix:/run/db.sock', connect: 'unix:/run/postgresql/.s.PGSQL.5432', uid: '1000', gid: '50', mode: '0660' }), {
      listen: 'unix:/run/db.sock',
      connect: 'unix:/run/postgresql/.s.PGSQL.5432',
      uid: 1000,
      gid: 50,
      mode: 0o660,
    });
    // Owner and mode concern a socket file only: ignored for tcp and abstract listeners, as LXD does.
    assert.deepEqual(proxyDeviceOf('a', { listen: 'unix:@front', connect: 'tcp:127.0.0.1:80', mode: '0600' }), { listen: 'unix:@front', connect: 'tcp:127.0.0.1:80' });
  });

  it('refuses what it cannot run, naming the device and key', () => {
    refuses({ connect: 'tcp:127.0.0.1:80' }, 'Invalid devices["web"]["listen"]: is required for a proxy device');
    refuses({ listen: 'tcp:0.0.0.0:80' }, 'Invalid devices["web"]["connect"]: is required for a proxy device');
    refuses({ listen: 'tcp:0.0.0.0', connect: 'tcp:127.0.0.1:80' }, 'Invalid devices["web"]["listen"]: "tcp:0.0.0.0" must be tcp:<address>:<port> (IPv6 in brackets)');
    refuses({ listen: 'udp:0.0.0.0:53', connect: 'tcp:127.0.0.1:53' }, 'Invalid devices["web"]["connect"]: cannot relay udp to tcp');
    refuses({ listen: 'unix:/run/dns.sock', connect: 'udp:127.0.0.1:53' }, 'Invalid devices["web"]["connect"]: cannot relay unix to udp (udp is relayed to udp only)');
    refuses({ listen: 'tcp:0.0.0.0:8000-8002', connect: 'tcp:127.0.0.1:80-81' }, 'Invalid devices["web"]["connect"]: must name one port or 3 ports to match listen');
    refuses({ listen: 'tcp:0.0.0.0:80', connect: 'tcp:127.0.0.1:80', bind: 'instance' }, 'Invalid devices["web"]["bind"]: bind=instance (listening inside the instance) is not supported yet; use bind=host');
    refuses({ listen: 'tcp:0.0.0.0:80', connect: 'tcp:127.0.0.1:80', bind: 'guest' }, 'Invalid devices["web"]["bind"]: must be host or instance');
    refuses({ listen: 'tcp:0.0.0.0:80', connect: 'tcp:127.0.0.1:80', nat: 'maybe' }, 'Invalid devices["web"]["nat"]: must be true or false');
    refuses({ listen: 'tcp:0.0.0.0:80', connect: 'tcp:127.0.0.1:80', proxy_protocol: 'true' }, 'Invalid devices["web"]["proxy_protocol"]: proxy_protocol=true is not supported yet');
    refuses({ listen: 'tcp:0.0.0.0:80', connect: 'tcp:127.0.0.1:80', 'security.uid': '1000' }, 'Invalid devices["web"]["security.uid"]: running the proxy as another user is not supported yet (0 only)');
    refuses({ listen: 'unix:/run/a.sock', connect: 'tcp:127.0.0.1:80', uid: '-1' }, 'Invalid devices["web"]["uid"]: "-1" is not a user or group id');
    refuses({ listen: 'unix:/run/a.sock', connect: 'tcp:127.0.0.1:80', mode: '0999' }, 'Invalid devices["web"]["mode"]: "0999" is not an octal file mode such as 0644');
    refuses({ listen: `unix:/${'x'.repeat(107)}`, connect: 'tcp:127.0.0.1:80' }, 'Invalid devices["web"]["listen"]: a unix socket address must be at most 107 bytes');
  });

  it('accepts udp to udp, with its own idle timeout argument', () => {
    const device = { ...proxyDeviceOf('dns', { listen: 'udp:127.0.0.1:5353', connect: 'udp:127.0.0.1:53' }), udpIdle: 5 };
    assert.deepEqual(device, { listen: 'udp:127.0.0.1:5353', connect: 'udp:127.0.0.1:53', udpIdle: 5 });
    assert.deepEqual(proxyArgs('/b', 'c1', 'dns', 7, device).slice(-4), ['--udp-idle', '5', '--report-fd', '3']);
  });

  it('turns nat=true into a port forward to the nic\'s static address, with LXD\'s rules', () => {
    const nics = { eth1: { network: 'br1', address: '10.9.0.7' }, eth0: { network: 'br0', address: '10.8.0.5' } };
    assert.deepEqual(proxyDeviceOf('web', { listen: 'tcp:127.0.0.1:8080-8081', connect: 'tcp:0.0.0.0:80-81', nat: 'true' }, nics), {
      listen: 'tcp:127.0.0.1:8080-8081',
      connect: 'tcp:0.0.0.0:80-81',
      nat: { protocol: 'tcp', listenAddress: '127.0.0.1', listenPorts: [8080, 8081], targetAddress: '10.8.0.5', targetPorts: [80, 81], bridge: 'br0' },
    });
    assert.deepEqual(proxyDeviceOf('dns', { listen: 'udp:192.0.2.1:53', connect: 'udp:10.9.0.7:53', nat: 'yes' }, nics).nat, {
      protocol: 'udp', listenAddress: '192.0.2.1', listenPorts: [53], targetAddress: '10.9.0.7', targetPorts: [53], bridge: 'br1',
    });
    const nat = (spec: Record<string, string>, message: string, given: Record<string, { network: string; address: string }> = nics) =>
      assert.throws(() => proxyDeviceOf('web', { nat: 'true', ...spec }, given), (e: unknown) => e instanceof ValidationError && e.message === message);
    nat({ listen: 'tcp:127.0.0.1:80', connect: 'tcp:0.0.0.0:80' }, 'Invalid devices["web"]["connect"]: nat=true needs a nic with a static ipv4.address on a managed network to connect to; the instance has none', {});
    nat({ listen: 'tcp:127.0.0.1:80', connect: 'tcp:10.8.0.6:80' }, 'Invalid devices["web"]["connect"]: 10.8.0.6 is not one of the instance\'s static IPv4 addresses (10.8.0.5, 10.9.0.7)');
    nat({ listen: 'tcp:0.0.0.0:80', connect: 'tcp:0.0.0.0:80' }, 'Invalid devices["web"]["listen"]: cannot listen on the wildcard address 0.0.0.0 with nat=true: name an address of the host');
    nat({ listen: 'tcp:[::1]:80', connect: 'tcp:[::1]:80' }, 'Invalid devices["web"]["listen"]: nat=true forwards IPv4 only (Berth\'s bridges have no IPv6)');
    nat({ listen: 'unix:/run/a.sock', connect: 'tcp:0.0.0.0:80' }, 'Invalid devices["web"]["nat"]: proxying unix to tcp is not supported with nat=true (tcp to tcp, or udp to udp)');
    nat({ listen: 'tcp:127.0.0.1:80', connect: 'tcp:0.0.0.0:80', bind: 'instance' }, 'Invalid devices["web"]["bind"]: bind=instance (listening inside the instance) is not supported yet; use bind=host');
  });

  it('builds the same arguments for the same device, so a running proxy is recognised', () => {
    const device = proxyDeviceOf('web', { listen: 'unix:/run/a.sock', connect: 'tcp:127.0.0.1:80', mode: '660' });
    assert.deepEqual(proxyArgs('/var/lib/berth', 'c1', 'web', 42, device), [
      '--pid', '42',
      '--listen', 'unix:/run/a.sock',
      '--connect', 'tcp:127.0.0.1:80',
      '--pid-file', '/var/lib/berth/containers/c1/proxy-web.pid',
      '--log', '/var/lib/berth/containers/c1/proxy-web.log',
      '--mode', '0660',
      '--report-fd', '3',
    ]);
  });
});

/** A free TCP port on the host's loopback. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A free UDP port on the host's loopback. */
async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

/** A UDP client on its own port: `ask` sends one datagram and resolves with the next one received. */
async function udpClient(): Promise<{ ask(port: number, text: string): Promise<string>; close(): void }> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    ask: (port, text) =>
      new Promise((resolve) => {
        socket.once('message', (m) => resolve(m.toString()));
        socket.send(text, port, '127.0.0.1');
      }),
    close: () => socket.close(),
  };
}

/** The first of `count` consecutive free TCP ports on the host's loopback. */
async function freeRange(count: number): Promise<number> {
  for (;;) {
    const first = await freePort();
    if (first + count > 65535) continue;
    const servers: net.Server[] = [];
    let ok = true;
    for (let port = first; port < first + count && ok; port++) {
      const server = net.createServer();
      ok = await new Promise<boolean>((resolve) => {
        server.once('error', () => resolve(false));
        server.listen(port, '127.0.0.1', () => resolve(true));
      });
      if (ok) servers.push(server);
    }
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    if (ok) return first;
  }
}

/** Connects, sends `payload`, half-closes, and collects the answer until the other side closes (or resets). */
function exchange(options: net.NetConnectOpts, payload: Buffer | string): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(options, () => socket.end(payload));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Echo servers inside a new network namespace, each greeting first: tcp 127.0.0.1:80 and :81; and
 * udp 127.0.0.1:80, which answers each datagram with the port it came from (one per upstream socket).
 */
const SERVER = `
const net = require('net');
const dgram = require('dgram');
const serve = (name) => (s) => { s.write('hello from ' + name + '\\n'); s.pipe(s); };
let left = 3;
const up = () => { if (--left === 0) console.log('ready'); };
net.createServer(serve('port 80')).listen(80, '127.0.0.1', up);
net.createServer(serve('port 81')).listen(81, '127.0.0.1', up);
const udp = dgram.createSocket('udp4');
udp.on('message', (m, from) => udp.send(from.port + ':' + m, from.port, from.address));
udp.bind(80, '127.0.0.1', up);
`;

/** The same on the abstract socket @berth-proxy-test, in perl: Node pads abstract names to the full sun_path. */
const ABSTRACT_SERVER = `
use Socket;
socket(my $s, AF_UNIX, SOCK_STREAM, 0) or die "socket: $!";
bind($s, pack_sockaddr_un("\\0berth-proxy-test")) or die "bind: $!";
listen($s, 16) or die "listen: $!";
$| = 1;
print "ready\\n";
while (accept(my $c, $s)) {
  syswrite($c, "hello from abstract\\n");
  while (sysread($c, my $buf, 65536)) { syswrite($c, $buf) }
  close($c);
}
`;

async function ready(child: ChildProcess, what: string): Promise<ChildProcess> {
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}`)));
  });
  return child;
}

function startNamespaceServer(): Promise<ChildProcess> {
  const child = spawn('unshare', ['--net', 'sh', '-c', 'ip link set lo up && exec "$0" -e "$1"', process.execPath, SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  return ready(child, 'namespace server');
}

function startAbstractServer(pid: number): Promise<ChildProcess> {
  const child = spawn('nsenter', [`--net=/proc/${pid}/ns/net`, 'perl', '-e', ABSTRACT_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  return ready(child, 'abstract server');
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function waitFor(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const alive = (pid: number) => readFile(`/proc/${pid}/cmdline`, 'utf8').then((t) => t.length > 0, () => false);

describe('berth-proxy: relaying from the host into a network namespace', () => {
  let dir: string;
  let berthDir: string;
  let server: ChildProcess;
  let abstract: ChildProcess;
  const instance = 'c1';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-proxy-'));
    berthDir = join(dir, 'berth');
    await mkdir(join(berthDir, 'containers', instance), { recursive: true });
    server = await startNamespaceServer();
    abstract = await startAbstractServer(server.pid!);
  });
  after(async () => {
    await stopProxies(berthDir, instance);
    await stopProxies(berthDir, 'jail');
    for (const child of [abstract, server]) {
      child.kill('SIGKILL');
      await exited(child);
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('relays tcp both ways with half-close, 4 MiB through bounded buffers, and leaks no descriptor', async () => {
    const port = await freePort();
    const started = await startProxy({ berthDir, instance, device: 'web', pid: server.pid!, proxy: { listen: `tcp:127.0.0.1:${port}`, connect: 'tcp:127.0.0.1:80' } });
    assert.equal(Number(await readFile(proxyPidFile(berthDir, instance, 'web'), 'utf8')), started.pid);
    assert.equal((await exchange({ port, host: '127.0.0.1' }, 'ping')).toString(), 'hello from port 80\nping');

    const fds = async () => (await readdir(`/proc/${started.pid}/fd`)).length;
    const before = await fds();
    const big = randomBytes(4 * 1024 * 1024);
    const answers = await Promise.all(Array.from({ length: 8 }, () => exchange({ port, host: '127.0.0.1' }, big)));
    for (const answer of answers) assert.equal(sha(answer), sha(Buffer.concat([Buffer.from('hello from port 80\n'), big])));
    await waitFor(async () => (await fds()) === before, 'the relayed descriptors to close');

    // What the proxy holds: /dev/null as stdio, its log, pidfd, two network namespaces, signalfd, epoll, one listener.
    const targets = await Promise.all((await readdir(`/proc/${started.pid}/fd`)).map((fd) => readlink(`/proc/${started.pid}/fd/${fd}`)));
    assert.deepEqual(targets.filter((t) => t === '/dev/null').length, 3);
    assert.equal(targets.filter((t) => t.startsWith('socket:')).length, 1);
    assert.equal(targets.filter((t) => t.startsWith('net:')).length, 2);
    assert.equal(targets.length, 10, targets.join(' '));
    assert.equal(await stopProxy(berthDir, instance, 'web'), true);
    assert.equal(await alive(started.pid), false);
    assert.equal(existsSync(proxyPidFile(berthDir, instance, 'web')), false);
  });

  it('relays udp datagrams with one upstream socket per client, and closes idle sessions', async () => {
    const port = await freeUdpPort();
    const started = await startProxy({ berthDir, instance, device: 'dns', pid: server.pid!, proxy: { listen: `udp:127.0.0.1:${port}`, connect: 'udp:127.0.0.1:80', udpIdle: 3 } });
    // Sockets only: the proxy creates its epoll descriptor after it reports that it listens.
    const sockets = async () => {
      const fds = await readdir(`/proc/${started.pid}/fd`);
      return (await Promise.all(fds.map((fd) => readlink(`/proc/${started.pid}/fd/${fd}`).catch(() => '')))).filter((t) => t.startsWith('socket:')).length;
    };
    assert.equal(await sockets(), 1);
    const [a, b] = [await udpClient(), await udpClient()];
    try {
      const a1 = await a.ask(port, 'one');
      const b1 = await b.ask(port, 'two');
      const a2 = await a.ask(port, 'three');
      const [fromA, textA] = a1.split(':');
      assert.equal(textA, 'one');
      assert.equal(b1.split(':')[1], 'two');
      assert.equal(a2, `${fromA}:three`, 'the same client keeps its upstream socket');
      assert.notEqual(b1.split(':')[0], fromA, 'another client gets its own');
      assert.equal(await sockets(), 3);
      const big = randomBytes(60_000).toString('hex').slice(0, 60_000);
      assert.equal(await a.ask(port, big), `${fromA}:${big}`, 'a large datagram crosses whole');
      await waitFor(async () => (await sockets()) === 1, 'the idle sessions to close');
      assert.notEqual((await a.ask(port, 'again')).split(':')[0], fromA, 'a new session after the old one expired');
    } finally {
      a.close();
      b.close();
    }
    // A udp port in use is refused like a tcp one.
    await assert.rejects(
      startProxy({ berthDir, instance, device: 'dns2', pid: server.pid!, proxy: { listen: `udp:127.0.0.1:${port}`, connect: 'udp:127.0.0.1:80' } }),
      (e: unknown) => e instanceof ProxyStartError && e.syscall === 'bind' && e.errnoCode === 'EADDRINUSE',
    );
    await stopProxy(berthDir, instance, 'dns');
  });

  it('maps a listen port range onto as many connect ports, in order', async () => {
    const from = await freeRange(2);
    await startProxy({ berthDir, instance, device: 'range', pid: server.pid!, proxy: { listen: `tcp:127.0.0.1:${from}-${from + 1}`, connect: 'tcp:127.0.0.1:80-81' } });
    assert.equal((await exchange({ port: from, host: '127.0.0.1' }, 'a')).toString(), 'hello from port 80\na');
    assert.equal((await exchange({ port: from + 1, host: '127.0.0.1' }, 'b')).toString(), 'hello from port 81\nb');
    await stopProxy(berthDir, instance, 'range');
  });

  it('listens on a unix socket with the asked mode and connects to an abstract socket in the namespace; removes its socket on stop', async () => {
    const path = join(dir, 'front.sock');
    await startProxy({ berthDir, instance, device: 'sock', pid: server.pid!, proxy: { listen: `unix:${path}`, connect: 'unix:@berth-proxy-test', mode: 0o600 } });
    const { stdout } = await run('stat', ['-c', '%a %F', path]);
    assert.equal(stdout.trim(), '600 socket');
    assert.equal((await exchange({ path }, 'x')).toString(), 'hello from abstract\nx');
    await stopProxy(berthDir, instance, 'sock');
    assert.equal(existsSync(path), false);
  });

  it('refuses a busy port with the syscall and errno, leaving no process and no pid file', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as net.AddressInfo;
    try {
      await assert.rejects(
        startProxy({ berthDir, instance, device: 'busy', pid: server.pid!, proxy: { listen: `tcp:127.0.0.1:${port}`, connect: 'tcp:127.0.0.1:80' } }),
        (e: unknown) =>
          e instanceof ProxyStartError &&
          e.code === 'NETWORK.PROXY_FAILED' &&
          e.syscall === 'bind' &&
          e.errnoCode === 'EADDRINUSE' &&
          e.message === `Proxy device "busy" of instance "c1" could not start: bind(2) failed: EADDRINUSE (tcp:127.0.0.1:${port})`,
      );
    } finally {
      busy.close();
    }
    assert.equal(existsSync(proxyPidFile(berthDir, instance, 'busy')), false);
    assert.deepEqual(await runningProxies(berthDir, instance), []);
    const { stdout } = await run('ps', ['-eo', 'args']);
    assert.equal(stdout.split('\n').filter((line) => line.includes(proxyPidFile(berthDir, instance, 'busy'))).length, 0);
  });

  it('refuses a process that is gone', async () => {
    const gone = spawn('true');
    await exited(gone);
    await assert.rejects(
      startProxy({ berthDir, instance, device: 'gone', pid: gone.pid!, proxy: { listen: `tcp:127.0.0.1:${await freePort()}`, connect: 'tcp:127.0.0.1:80' } }),
      (e: unknown) => e instanceof ProxyStartError && e.syscall === 'pidfd_open' && e.errnoCode === 'ESRCH',
    );
  });

  it('syncs to the wanted devices: keeps the unchanged, restarts the changed, and undoes everything if one cannot start', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const devices = { a: { listen: `tcp:127.0.0.1:${p1}`, connect: 'tcp:127.0.0.1:80' }, b: { listen: `tcp:127.0.0.1:${p2}`, connect: 'tcp:127.0.0.1:80' } };
    assert.deepEqual(await syncProxies({ berthDir, instance, pid: server.pid!, devices }), { started: ['a', 'b'], stopped: [] });
    const pids = Object.fromEntries((await runningProxies(berthDir, instance)).map((p) => [p.device, p.pid]));

    const changed = { ...devices, b: { listen: `tcp:127.0.0.1:${p2}`, connect: 'tcp:127.0.0.1:81' } };
    assert.deepEqual(await syncProxies({ berthDir, instance, pid: server.pid!, devices: changed }), { started: ['b'], stopped: ['b'] });
    assert.equal((await exchange({ port: p2, host: '127.0.0.1' }, '')).toString(), 'hello from port 81\n');
    const after1 = Object.fromEntries((await runningProxies(berthDir, instance)).map((p) => [p.device, p.pid]));
    assert.equal(after1.a, pids.a);

    // Removing b and adding c on a busy port: b comes back, nothing of c is left.
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as net.AddressInfo;
    try {
      await assert.rejects(
        syncProxies({ berthDir, instance, pid: server.pid!, devices: { a: devices.a, c: { listen: `tcp:127.0.0.1:${port}`, connect: 'tcp:127.0.0.1:80' } } }),
        (e: unknown) => e instanceof ProxyStartError && e.device === 'c' && e.errnoCode === 'EADDRINUSE',
      );
    } finally {
      busy.close();
    }
    assert.deepEqual((await runningProxies(berthDir, instance)).map((p) => p.device), ['a', 'b']);
    assert.equal((await exchange({ port: p2, host: '127.0.0.1' }, '')).toString(), 'hello from port 81\n');
    assert.deepEqual(await syncProxies({ berthDir, instance, pid: server.pid!, devices: {} }), { started: [], stopped: ['a', 'b'] });
  });

  it('exits by itself when the namespace holder exits, removing its pid file and socket', async () => {
    const holder = await startNamespaceServer();
    const path = join(dir, 'short-lived.sock');
    const proxy = await startProxy({ berthDir, instance, device: 'short', pid: holder.pid!, proxy: { listen: `unix:${path}`, connect: 'tcp:127.0.0.1:80' } });
    assert.equal((await exchange({ path }, '')).toString(), 'hello from port 80\n');
    holder.kill('SIGKILL');
    await exited(holder);
    await waitFor(async () => !(await alive(proxy.pid)), 'the proxy to exit');
    assert.equal(existsSync(path), false);
    assert.equal(existsSync(proxyPidFile(berthDir, instance, 'short')), false);
  });

  it('resolves a unix connect path inside the container root: symlinks and ".." cannot leave it', async () => {
    // A "container" whose root is a directory of ours: sleep(1) chrooted there, in its own network namespace.
    const root = join(dir, 'root');
    for (const sub of ['bin', 'run', 'srv']) await mkdir(join(root, sub), { recursive: true });
    const { stdout } = await run('ldd', ['/bin/sleep']);
    for (const lib of stdout.split('\n').map((l) => /(\/\S+)/.exec(l)?.[1]).filter((l): l is string => l !== undefined)) {
      await mkdir(join(root, dirname(lib)), { recursive: true });
      await copyFile(lib, join(root, lib));
    }
    await copyFile('/bin/sleep', join(root, 'bin/sleep'));
    await run('chmod', ['755', join(root, 'bin/sleep')]);
    const jail = spawn('unshare', ['--net', `--root=${root}`, '/bin/sleep', 'infinity'], { stdio: 'ignore' });
    await waitFor(async () => (await readlink(`/proc/${jail.pid}/root`).catch(() => '')) === root, 'the jail to start');

    const serve = (path: string, name: string) => {
      const s = net.createServer((c) => c.end(`${name}\n`));
      return new Promise<net.Server>((resolve) => s.listen(path, () => resolve(s)));
    };
    const inside = await serve(join(root, 'srv/app.sock'), 'inside');
    const outsideDir = join(dir, 'host');
    await mkdir(outsideDir);
    const outside = await serve(join(outsideDir, 'app.sock'), 'outside');
    let outsideHits = 0;
    outside.on('connection', () => outsideHits++);
    // Absolute and climbing symlinks, both written by the guest, aimed at the host's socket.
    await symlink('/srv/app.sock', join(root, 'run/app.sock'));
    await symlink(`../../../../../../../..${outsideDir}/app.sock`, join(root, 'run/escape.sock'));
    await symlink(`${outsideDir}/app.sock`, join(root, 'run/absolute-escape.sock'));
    try {
      const relay = async (device: string, target: string) => {
        const path = join(dir, `${device}.sock`);
        await startProxy({ berthDir, instance: 'jail', device, pid: jail.pid!, proxy: { listen: `unix:${path}`, connect: `unix:${target}` } });
        return (await exchange({ path }, '')).toString();
      };
      await mkdir(join(berthDir, 'containers', 'jail'), { recursive: true });
      assert.equal(await relay('in', '/run/app.sock'), 'inside\n');
      assert.equal(await relay('climb', '/run/escape.sock'), '');
      assert.equal(await relay('abs', '/run/absolute-escape.sock'), '');
      assert.equal(outsideHits, 0);
      assert.match(await readFile(join(berthDir, 'containers', 'jail', 'proxy-climb.log'), 'utf8'), /openat2\(2\) to \/run\/escape\.sock failed: ENOENT/);
    } finally {
      await stopProxies(berthDir, 'jail');
      jail.kill('SIGKILL');
      await exited(jail);
      inside.close();
      outside.close();
    }
  });
});
