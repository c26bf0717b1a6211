// A reboot from inside a real container (`systemctl reboot`): its monitor starts a new init in a new
// network namespace, and berthd plugs the nic into it again (same MAC, same address) and restarts
// its proxy device, while it runs and, after a reboot while it was down, when it adopts the container.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Runtime } from '#runtime';
import { daemonApi } from '../support/api.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { ensureDebianImage } from '../support/debian-image.js';
import { listen } from '../support/events.js';
import { answers, exchange, freePort } from '../support/net.js';

const NAME = 'rb';
const MINUTES = 60_000;

/** The command line of a live berth-proxy, from its pid file. */
function proxyArgv(dir: string): string[] {
  const pid = Number(readFileSync(`${dir}/containers/${NAME}/proxy-http.pid`, 'utf8'));
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
}

/** An echo server on the container's 127.0.0.1:80, socket-activated by its systemd, so that it comes back after a reboot ($$: a literal $ for systemd). */
const ECHO_UNITS = [
  'set -e',
  "printf '[Socket]\\nListenStream=127.0.0.1:80\\nAccept=yes\\n\\n[Install]\\nWantedBy=sockets.target\\n' > /etc/systemd/system/echo.socket",
  "printf '[Service]\\nExecStart=/bin/sh -c \"echo hello from $$(hostname); exec cat\"\\nStandardInput=socket\\n' > /etc/systemd/system/echo@.service",
  'systemctl daemon-reload',
  'systemctl enable --now echo.socket',
].join('\n');

describe('a reboot from inside a container: nic and proxy follow the new init', () => {
  let d: Daemon;
  const network = `btr${process.pid % 100000}`;
  let port: number;
  let address: string;
  let mac: string;
  let pid: number;

  const { finish, removeInstances, exec, booted } = daemonApi(() => d);
  /** eth0's IPv4 address as the container itself has it, once DHCP gave it one. */
  const eth0 = async (): Promise<string> => {
    let last = '';
    for (let i = 0; i < 300; i++) {
      const r = await exec(NAME, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
      last = r.stdout;
      const found = / inet (\d+\.\d+\.\d+\.\d+)\//.exec(r.stdout)?.[1];
      if (r.code === 0 && found) return found;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`eth0 got no address: ${last}`);
  };
  const state = async () => (await d.api().get(`/1.0/instances/${NAME}/state`).expect(200)).body.metadata as { status: string; pid: number; boot: { ready: boolean } | null };
  /** Waits for the container to be Running with an init other than `old`, systemd's READY=1 seen. */
  const readyAgain = async (old: number): Promise<number> => {
    for (let i = 0; i < 600; i++) {
      const s = await state();
      if (s.status === 'Running' && s.boot?.ready && s.pid !== old) return s.pid;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`${NAME} was not running and ready again with a new init: ${JSON.stringify(await state())}`);
  };

  before(async () => {
    const image = await ensureDebianImage();
    d = await startDaemon();
    await finish(await d.api().post('/1.0/images').set('Content-Type', 'application/octet-stream').set('X-LXD-aliases', 'debian/12').send(readFileSync(image)));
    await d.api().post('/1.0/networks').send({ name: network, config: { 'ipv4.address': 'auto' } }).expect(200);
    port = await freePort();
    await finish(
      await d.api().post('/1.0/instances').send({
        name: NAME,
        source: { type: 'image', alias: 'debian/12' },
        devices: {
          eth0: { type: 'nic', network, name: 'eth0' },
          http: { type: 'proxy', listen: `tcp:127.0.0.1:${port}`, connect: 'tcp:127.0.0.1:80' },
        },
      }),
    );
    await finish(await d.api().put(`/1.0/instances/${NAME}/state`).send({ action: 'start' }));
    await booted(NAME); // systemctl needs systemd up: a start ends once init runs
    assert.equal((await exec(NAME, ['systemctl', 'is-system-running', '--wait'])).code, 0);
    const units = await exec(NAME, ['sh', '-c', ECHO_UNITS]);
    assert.equal(units.code, 0, units.stdout);
    address = await eth0();
    mac = (await d.api().get(`/1.0/instances/${NAME}`).expect(200)).body.metadata.config['volatile.eth0.hwaddr'];
    pid = (await state()).pid;
    await answers({ host: '127.0.0.1', port }, 'before', `hello from ${NAME}\nbefore`, 300);
  });
  after(async () => {
    await removeInstances(NAME);
    await d.api().delete(`/1.0/networks/${network}`);
    await d.destroy();
  });

  it('plugs eth0 into the new init with the same MAC and address, restarts the proxy, and says instance-restarted', { timeout: 5 * MINUTES }, async () => {
    const events = await listen(d.socket, 'lifecycle');
    try {
      // The exec ends with the init it runs under: its operation is not waited for.
      assert.equal((await d.api().post(`/1.0/instances/${NAME}/exec`).send({ command: ['systemctl', 'reboot'] })).status, 202);
      const rebooted = await readyAgain(pid);
      const restarted = await events.waitFor((e) => e.metadata.action === 'instance-restarted', 2 * MINUTES);
      assert.equal(restarted.metadata.source, `/1.0/instances/${NAME}`);
      assert.equal(events.events.filter((e) => e.metadata.action === 'instance-restarted').length, 1);
      assert.equal(events.events.some((e) => e.metadata.action === 'instance-stopped'), false);
      pid = rebooted;
    } finally {
      events.close();
    }
    assert.equal(await eth0(), address);
    assert.equal((await exec(NAME, ['cat', '/sys/class/net/eth0/address'])).stdout.trim(), mac);
    await answers({ host: '127.0.0.1', port }, 'after a reboot', `hello from ${NAME}\nafter a reboot`, 300);
    const argv = proxyArgv(d.dir);
    assert.equal(argv[argv.indexOf('--pid') + 1], String(pid));
    const instance = (await d.api().get(`/1.0/instances/${NAME}`).expect(200)).body.metadata;
    assert.equal(instance.status, 'Running');
    assert.equal(instance.config['volatile.eth0.hwaddr'], mac);
  });

  it('catches up with a reboot that happened while berthd was down when it adopts the container', { timeout: 5 * MINUTES }, async () => {
    const runtime = new Runtime({ berthDir: d.dir });
    const before = (await runtime.state(NAME)).pid;
    await d.kill('SIGKILL');
    runtime.execStream(NAME, ['systemctl', 'reboot']);
    let now = await runtime.state(NAME);
    for (let i = 0; i < 600 && (now.pid === before || now.readyMs === null); i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      now = await runtime.state(NAME);
    }
    assert.ok(now.state === 'Running' && now.readyMs !== null, `Running, systemd's READY=1 seen: ${JSON.stringify(now)}`);
    assert.notEqual(now.pid, before);
    // Nothing plugged it in while the daemon was down: the new init has no eth0 yet.
    assert.notEqual((await runtime.exec(NAME, ['ip', 'link', 'show', 'dev', 'eth0'])).exitCode, 0);

    d = await d.restart();
    assert.equal((await state()).pid, now.pid);
    assert.equal(await eth0(), address);
    assert.equal((await exec(NAME, ['cat', '/sys/class/net/eth0/address'])).stdout.trim(), mac);
    await answers({ host: '127.0.0.1', port }, 'after adoption', `hello from ${NAME}\nafter adoption`, 300);
    const argv = proxyArgv(d.dir);
    assert.equal(argv[argv.indexOf('--pid') + 1], String(now.pid));

    // The API's own stop and restart still work on the adopted container.
    await finish(await d.api().put(`/1.0/instances/${NAME}/state`).send({ action: 'restart' }));
    assert.equal(await eth0(), address);
    await answers({ host: '127.0.0.1', port }, 'after restart', `hello from ${NAME}\nafter restart`, 300);
    await finish(await d.api().put(`/1.0/instances/${NAME}/state`).send({ action: 'stop' }));
    assert.equal((await state()).status, 'Stopped');
    assert.notEqual(await exchange({ host: '127.0.0.1', port }, 'stopped'), `hello from ${NAME}\nstopped`);
  });
});
