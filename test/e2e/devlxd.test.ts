// The guest API, /dev/lxd/sock (LXD's devlxd), from inside real containers of the debian-12-cloud
// image: its routes and their bare answers, a guest declaring itself Ready, the peer check (root
// of that container only: not a user inside, not the host, not another container), the events
// websocket, security.devlxd=false, and a socket that a restarted berthd serves again.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { daemonApi } from '../support/api.js';
import { ensureCloudImage } from '../support/cloud-image.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { listen } from '../support/events.js';
import { configureLxc, lxcRunner } from '../support/lxc.js';

const run = promisify(execFile);

interface Reply {
  status: number;
  type: string;
  body: string;
}

/** curl's arguments for one request on a devlxd socket, and how to read its answer. */
const CURL_TAIL = '\n@@@';
const curlArgs = (socket: string, path: string, method = 'GET', body?: string) => [
  'curl', '-sS', '--unix-socket', socket, '-X', method, ...(body === undefined ? [] : ['-d', body]), '-w', `${CURL_TAIL}%{http_code} %{content_type}`, `http://lxd${path}`,
];
function reply(stdout: string): Reply {
  const at = stdout.lastIndexOf(CURL_TAIL);
  const [status, type] = stdout.slice(at + CURL_TAIL.length).split(' ');
  return { status: Number(status), type: type ?? '', body: stdout.slice(0, at) };
}

/** Reads one text frame of /1.0/events (a websocket) on /dev/lxd/sock; touches /run/ev.ready once subscribed. */
const EVENTS_CLIENT = `
import base64, os, socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(60); s.connect('/dev/lxd/sock')
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(('GET /1.0/events?type=config HTTP/1.1\\r\\nHost: lxd\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n'
           'Sec-WebSocket-Key: %s\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n' % key).encode())
buf = b''
while b'\\r\\n\\r\\n' not in buf: buf += s.recv(4096)
head, buf = buf.split(b'\\r\\n\\r\\n', 1)
if not head.startswith(b'HTTP/1.1 101'): sys.exit(head.decode())
open('/run/ev.ready', 'w').close()
def need(n):
    global buf
    while len(buf) < n:
        chunk = s.recv(4096)
        if not chunk: sys.exit('closed')
        buf += chunk
need(2); n = buf[1] & 127; off = 2
if n == 126: need(4); n = int.from_bytes(buf[2:4], 'big'); off = 4
need(off + n); print(buf[off:off + n].decode())
`;

describe('the guest API /dev/lxd/sock (real daemon, real containers)', () => {
  let d: Daemon;
  const net = `bdx${process.pid % 100000}`;
  const { finish, exec, removeInstances } = daemonApi(() => d);
  const lxc = lxcRunner(() => d, 300_000);
  const instance = async (name: string) => (await d.api().get(`/1.0/instances/${name}`).expect(200)).body.metadata;
  /** One request on /dev/lxd/sock from inside `name`, as its root unless `as` is given (uid:gid). */
  const guest = async (name: string, path: string, options: { method?: string; body?: string; as?: string } = {}): Promise<Reply> => {
    const curl = curlArgs('/dev/lxd/sock', path, options.method, options.body);
    const command = options.as ? ['setpriv', `--reuid=${options.as.split(':')[0]}`, `--regid=${options.as.split(':')[1]}`, '--clear-groups', ...curl] : curl;
    const r = await exec(name, command);
    assert.equal(r.code, 0, r.stderr);
    return reply(r.stdout);
  };
  const create = async (name: string, config: Record<string, string>) => {
    await finish(await d.api().post('/1.0/instances').send({ name, source: { type: 'image', alias: 'cloud' }, config }));
    await finish(await d.api().put(`/1.0/instances/${name}/state`).send({ action: 'start' }));
  };

  before(async () => {
    d = await startDaemon({ env: { BERTH_DEFAULT_NETWORK: net } });
    await configureLxc(d);
    await lxc('image', 'import', await ensureCloudImage(), '--alias', 'cloud');
    await create('g1', { 'user.foo': 'bar', 'user.multi': 'a\nb\n', 'limits.memory': '512MiB', 'cloud-init.vendor-data': '#cloud-config\n{}\n' });
    await create('g2', { 'user.secret': 'of g2' });
  });
  after(async () => {
    await removeInstances('g1', 'g2', 'off');
    await d.api().delete(`/1.0/networks/${net}`);
    await d.destroy();
  });

  it('GET / and /1.0 answer bare JSON (no envelope)', async () => {
    assert.deepEqual(await guest('g1', '/'), { status: 200, type: 'application/json', body: '["/1.0"]\n' });
    const root = await guest('g1', '/1.0');
    assert.equal(root.type, 'application/json');
    const body = JSON.parse(root.body);
    assert.deepEqual({ ...body, state: undefined }, { api_version: '1.0', location: 'none', instance_type: 'container', state: undefined });
  });

  it('/1.0/config lists only the user.* and cloud-init.* keys; a key gives its raw value; other namespaces 403, a missing key 404', async () => {
    assert.deepEqual(JSON.parse((await guest('g1', '/1.0/config')).body), ['/1.0/config/cloud-init.vendor-data', '/1.0/config/user.foo', '/1.0/config/user.multi']);
    assert.deepEqual(await guest('g1', '/1.0/config/user.multi'), { status: 200, type: 'application/octet-stream', body: 'a\nb\n' });
    assert.deepEqual(await guest('g1', '/1.0/config/limits.memory'), { status: 403, type: 'text/plain;', body: 'not authorized\n' });
    assert.deepEqual(await guest('g1', '/1.0/config/user.none'), { status: 404, type: 'text/plain;', body: 'not found\n' });
  });

  it('/1.0/meta-data names the cloud-init instance-id the server keeps and the hostname', async () => {
    const id = (await instance('g1')).config['volatile.cloud-init.instance-id'];
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(await guest('g1', '/1.0/meta-data'), { status: 200, type: 'application/octet-stream', body: `#cloud-config\ninstance-id: ${id}\nlocal-hostname: g1\n` });
  });

  it('/1.0/devices: the expanded devices, eth0 with the MAC it really has inside', async () => {
    const devices = JSON.parse((await guest('g1', '/1.0/devices')).body);
    const mac = (await exec('g1', ['cat', '/sys/class/net/eth0/address'])).stdout.trim();
    assert.equal(devices.eth0.hwaddr, mac);
    assert.equal(devices.eth0.type, 'nic');
    assert.equal(devices.eth0.network, net);
  });

  it('PATCH /1.0 {"state":"Started"} then {"state":"Ready"}: status Running (103), then Ready (113) with an instance-ready event', async () => {
    assert.equal((await guest('g1', '/1.0', { method: 'PATCH', body: '{"state":"Started"}' })).status, 200);
    assert.deepEqual([(await instance('g1')).status, (await instance('g1')).status_code], ['Running', 103]);
    assert.equal(JSON.parse((await guest('g1', '/1.0')).body).state, 'Started');
    const events = await listen(d.socket, 'lifecycle');
    try {
      assert.equal((await guest('g1', '/1.0', { method: 'PATCH', body: '{"state":"Ready"}' })).status, 200);
      await events.waitFor((e) => e.metadata.action === 'instance-ready' && e.metadata.source === '/1.0/instances/g1');
    } finally {
      events.close();
    }
    const g1 = await instance('g1');
    assert.deepEqual([g1.status, g1.status_code, g1.config['volatile.last_state.ready']], ['Ready', 113, 'true']);
    assert.equal(JSON.parse((await guest('g1', '/1.0')).body).state, 'Ready');
    assert.deepEqual(await guest('g1', '/1.0', { method: 'PATCH', body: '{"state":"Stopped"}' }), { status: 400, type: 'text/plain;', body: 'Invalid state "Stopped"\n' });
  });

  it('a user other than root inside is refused as in LXD (401), and changes nothing', async () => {
    assert.deepEqual(await guest('g1', '/1.0/config/user.foo', { as: '1000:1000' }), { status: 401, type: 'text/plain;', body: 'Access denied for non-root user\n' });
    assert.deepEqual(await guest('g1', '/1.0', { method: 'PATCH', body: '{"state":"Started"}', as: '65534:65534' }), { status: 401, type: 'text/plain;', body: 'Access denied for non-root user\n' });
    assert.equal((await instance('g1')).status, 'Ready');
  });

  it("an instance's socket serves only its own container: the host and another container's processes get 500", async () => {
    const socket = join(d.dir, 'devlxd', 'g1', 'sock');
    const fromHost = reply((await run('curl', curlArgs(socket, '/1.0/config/user.foo').slice(1))).stdout);
    assert.deepEqual(fromHost, { status: 500, type: 'text/plain;', body: 'pid not in container?\n' });
    const g1 = await instance('g1');
    const g2 = await instance('g2');
    const pid = async (name: string) => String((await d.api().get(`/1.0/instances/${name}/state`).expect(200)).body.metadata.pid);
    // As g2's root, in g2's pid namespace, at g1's socket (reachable from the host's mounts only).
    const asG2 = ['nsenter', '-t', await pid('g2'), '-p', '--', 'setpriv', `--reuid=${g2.config['volatile.idmap.base']}`, `--regid=${g2.config['volatile.idmap.base']}`, '--clear-groups'];
    assert.deepEqual(reply((await run(asG2[0]!, [...asG2.slice(1), ...curlArgs(socket, '/1.0/config/user.foo')])).stdout), { status: 500, type: 'text/plain;', body: 'pid not in container?\n' });
    // The same way into g1's own pid namespace as g1's root: its socket answers (the check is the namespace, not the path).
    const asG1 = ['nsenter', '-t', await pid('g1'), '-p', '--', 'setpriv', `--reuid=${g1.config['volatile.idmap.base']}`, `--regid=${g1.config['volatile.idmap.base']}`, '--clear-groups'];
    assert.deepEqual(reply((await run(asG1[0]!, [...asG1.slice(1), ...curlArgs(socket, '/1.0/config/user.foo')])).stdout), { status: 200, type: 'application/octet-stream', body: 'bar' });
    // g2 sees its own keys only.
    assert.deepEqual(JSON.parse((await guest('g2', '/1.0/config')).body), ['/1.0/config/user.secret']);
  });

  it('/1.0/events: a websocket of config changes of user.* keys, with the old and new value', async () => {
    await exec('g1', ['rm', '-f', '/run/ev.ready']);
    const listener = exec('g1', ['python3', '-c', EVENTS_CLIENT]);
    for (let i = 0; i < 150 && (await exec('g1', ['test', '-e', '/run/ev.ready'])).code !== 0; i++) await new Promise((r) => setTimeout(r, 200));
    await d.api().patch('/1.0/instances/g1').send({ config: { 'user.foo': 'baz' } }).expect(200);
    const r = await listener;
    assert.equal(r.code, 0, r.stderr);
    const event = JSON.parse(r.stdout);
    assert.equal(event.type, 'config');
    assert.deepEqual(event.metadata, { key: 'user.foo', old_value: 'bar', value: 'baz' });
  });

  it('security.devlxd=false: 403 on every route at once, and no /dev/lxd in a container started so', async () => {
    await d.api().patch('/1.0/instances/g1').send({ config: { 'security.devlxd': 'false' } }).expect(200);
    for (const path of ['/', '/1.0', '/1.0/config', '/1.0/config/user.foo', '/1.0/meta-data', '/1.0/devices']) {
      assert.deepEqual(await guest('g1', path), { status: 403, type: 'text/plain;', body: 'not authorized\n' }, path);
    }
    const g1 = await instance('g1');
    await finish(await d.api().put('/1.0/instances/g1').send({ ...g1, config: Object.fromEntries(Object.entries(g1.config as Record<string, string>).filter(([k]) => k !== 'security.devlxd' && !k.startsWith('volatile.'))) }));
    assert.equal((await guest('g1', '/1.0/config/user.foo')).body, 'baz');
    await create('off', { 'security.devlxd': 'false' });
    assert.equal((await exec('off', ['test', '-e', '/dev/lxd'])).code, 1);
    assert.equal(existsSync(join(d.dir, 'devlxd', 'off')), false);
  });

  it('after berthd restarts, the guests reach their sockets again at the same path', async () => {
    assert.equal(await d.stop(), 0);
    d = await d.restart();
    assert.deepEqual(await guest('g1', '/1.0/config/user.foo'), { status: 200, type: 'application/octet-stream', body: 'baz' });
    assert.deepEqual(await guest('g2', '/1.0/config/user.secret'), { status: 200, type: 'application/octet-stream', body: 'of g2' });
  });

  it('a deleted instance leaves no socket directory behind', async () => {
    await removeInstances('g2');
    assert.equal(existsSync(join(d.dir, 'devlxd', 'g2')), false);
  });
});
