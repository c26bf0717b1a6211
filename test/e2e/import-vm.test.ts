import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { runBerth } from '../support/cli.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { ensureLampVm, type LampVm } from '../support/lamp-vm.js';

const run = promisify(execFile);

/** A TCP port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** GET over the proxy device, retried while the services come up. */
async function page(port: number, path = '/'): Promise<string> {
  let lastError: unknown;
  for (let i = 0; i < 120; i++) {
    try {
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = get({ host: '127.0.0.1', port, path, timeout: 10_000 }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', reject);
      });
      if (status === 200) return body;
      lastError = new Error(`HTTP ${status}: ${body.slice(0, 500)}`);
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw lastError;
}

describe('berth import-vm: a LAMP VM becomes one system container', () => {
  let d: Daemon;
  let vm: LampVm;
  let scratch: string;
  const sums = { tarball: '', rawDisk: '' };
  const sha256 = async (p: string) => (await run('sha256sum', [p])).stdout.split(' ')[0]!;
  const net = `bvm${process.pid % 100000}`;
  const berth = (args: string[], timeoutMs = 900_000) => runBerth(args, { env: d.env, timeoutMs });
  const ok = async (args: string[]) => {
    const r = await berth(args);
    assert.equal(r.code, 0, `berth ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const instances = async () => (await d.api().get('/1.0/instances').expect(200)).body.metadata as string[];
  const volumes = () => {
    const dir = join(d.dir, 'storage', 'default', 'containers');
    return existsSync(dir) ? readdirSync(dir).filter((n) => !n.startsWith('.')) : [];
  };
  const exec = async (name: string, command: string[]) => berth(['exec', name, '--', ...command]);

  before(async () => {
    vm = await ensureLampVm();
    sums.tarball = await sha256(vm.tarball);
    sums.rawDisk = await sha256(vm.rawDisk);
    scratch = await mkdtemp(join(tmpdir(), 'berth-import-'));
    d = await startDaemon();
    // The VM's own subnet, so that its static address can be kept as a reservation.
    await d.api().post('/1.0/networks').send({ name: net, config: { 'ipv4.address': '192.168.122.1/24' } }).expect(200);
    await d.api().post('/1.0/profiles').send({ name: 'lan', devices: { eth0: { type: 'nic', network: net, name: 'eth0' } } }).expect(200);
  });

  after(async () => {
    for (const n of ['web', 'web2', 'web3']) {
      await berth(['stop', n, '--force']).catch(() => undefined);
      await berth(['delete', n]).catch(() => undefined);
    }
    await d.api().delete(`/1.0/networks/${net}`);
    await d.destroy();
    await rm(scratch, { recursive: true, force: true });
  });

  it('--dry-run reports the changes and creates nothing', async () => {
    const before = await stat(vm.tarball);
    const r = await berth(['import-vm', vm.tarball, 'web', '-p', 'default', '-p', 'lan', '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /fstab/);
    assert.match(r.stdout, /ens3/);
    assert.match(r.stdout, /Dry run: nothing was created/);
    assert.deepEqual(await instances(), []);
    assert.deepEqual(volumes(), []);
    assert.deepEqual((await d.api().get('/1.0/migrations').expect(200)).body.metadata, []);
    assert.deepEqual(readdirSync(join(d.dir, 'migrate')), []);
    assert.equal((await stat(vm.tarball)).mtimeMs, before.mtimeMs);
  });

  it('imports the tarball: the report is stored, the static address becomes a reservation', async () => {
    const started = Date.now();
    const out = await ok(['import-vm', vm.tarball, 'web', '-p', 'default', '-p', 'lan']);
    const seconds = (Date.now() - started) / 1000;
    console.log(`# tarball import took ${seconds.toFixed(1)} s`);
    assert.match(out, /Instance web created/);
    const shown = await ok(['migration', 'show', 'web']);
    console.log(shown.split('\n').map((l) => `# ${l}`).join('\n'));
    const { report } = (await d.api().get('/1.0/migrations/web').expect(200)).body.metadata;
    const areas = new Set(report.changes.map((c: { area: string }) => c.area));
    for (const area of ['fstab', 'network', 'units']) assert.ok(areas.has(area), `no ${area} change in ${JSON.stringify(report.changes)}`);
    assert.equal(report.network.oldInterface, vm.oldInterface);
    assert.equal(report.network.reservation, vm.staticAddress.split('/')[0]);
    assert.equal(report.source.kind, 'tarball');
    const instance = (await d.api().get('/1.0/instances/web').expect(200)).body.metadata;
    assert.equal(instance.devices.eth0['ipv4.address'], vm.staticAddress.split('/')[0]);
  });

  it('boots to running with apache2, mariadb and cron as their own services, and serves the rows through a proxy device', async () => {
    const port = await freePort();
    await ok(['config', 'device', 'add', 'web', 'http', 'proxy', `listen=tcp:127.0.0.1:${port}`, 'connect=tcp:127.0.0.1:80']);
    await ok(['start', 'web']);
    const running = await exec('web', ['systemctl', 'is-system-running', '--wait']);
    if (running.stdout.trim() !== 'running') {
      const failed = await exec('web', ['systemctl', '--failed', '--no-legend']);
      assert.fail(`is-system-running: ${running.stdout.trim()}\n${failed.stdout}`);
    }
    const active = await exec('web', ['systemctl', 'is-active', 'apache2', 'mariadb', 'cron', 'ssh']);
    assert.equal(active.stdout.trim().split('\n').join(','), 'active,active,active,active', active.stdout);
    const pids = await exec('web', ['systemctl', 'show', '-p', 'MainPID', '--value', 'apache2', 'mariadb']);
    const [apache, mariadb] = pids.stdout.split('\n').filter((l) => l.trim() !== '').map(Number);
    assert.ok(apache! > 1 && mariadb! > 1 && apache !== mariadb, pids.stdout);
    const hostname = await exec('web', ['cat', '/etc/hostname']);
    assert.equal(hostname.stdout.trim(), vm.hostname);
    assert.equal((await exec('web', ['id', '-u', vm.user])).code, 0);

    const listed = await page(port);
    for (const row of vm.rows) assert.match(listed, new RegExp(row));
    const added = await page(port, '/?add=after-migration');
    assert.match(added, /after-migration/);
    await ok(['restart', 'web']);
    const again = await page(port);
    assert.match(again, /after-migration/);
    for (const row of vm.rows) assert.match(again, new RegExp(row));
    const state = (await d.api().get('/1.0/instances/web/state').expect(200)).body.metadata;
    assert.equal(state.network.eth0.addresses[0]?.address, vm.staticAddress.split('/')[0]);
  });

  it('imports the raw disk image too; the address already reserved falls back to DHCP with a warning', async () => {
    const port = await freePort();
    await ok(['import-vm', vm.rawDisk, 'web2', '-p', 'default', '-p', 'lan']);
    const { report } = (await d.api().get('/1.0/migrations/web2').expect(200)).body.metadata;
    assert.equal(report.source.kind, 'raw');
    assert.equal(report.network.reservation, undefined);
    assert.ok(report.warnings.some((w: string) => w.includes('was not reserved')), JSON.stringify(report.warnings));
    await ok(['config', 'device', 'add', 'web2', 'http', 'proxy', `listen=tcp:127.0.0.1:${port}`, 'connect=tcp:127.0.0.1:80']);
    await ok(['start', 'web2']);
    const running = await exec('web2', ['systemctl', 'is-system-running', '--wait']);
    assert.equal(running.stdout.trim(), 'running', (await exec('web2', ['systemctl', '--failed', '--no-legend'])).stdout);
    const listed = await page(port);
    for (const row of vm.rows) assert.match(listed, new RegExp(row));
    assert.doesNotMatch(listed, /after-migration/);
    await ok(['stop', 'web2']);
    await ok(['delete', 'web2']);
    await d.api().get('/1.0/migrations/web2').expect(404);
  });

  it('copies a running machine over SSH (the imported VM itself), refusing a login it cannot make', async () => {
    const address = vm.staticAddress.split('/')[0]!;
    const key = join(scratch, 'id_ed25519');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'berth-test', '-f', key]);
    const denied = await berth(['import-vm', '--ssh', `root@${address}`, '--ssh-identity', key, '/', 'web3', '-p', 'default', '-p', 'lan']);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /cannot log in over SSH/);
    await d.api().get('/1.0/instances/web3').expect(404);
    const pub = (await readFile(`${key}.pub`, 'utf8')).trim();
    assert.equal((await exec('web', ['sh', '-c', `mkdir -p /root/.ssh && chmod 700 /root/.ssh && echo '${pub}' > /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys`])).code, 0);
    // A consistent copy of a database: stop it for the copy, as on any live migration.
    assert.equal((await exec('web', ['systemctl', 'stop', 'mariadb'])).code, 0);
    assert.equal((await exec('web', ['touch', '/run/only-in-the-running-machine'])).code, 0);
    try {
      await ok(['import-vm', '--ssh', `root@${address}`, '--ssh-identity', key, '/', 'web3', '-p', 'default', '-p', 'lan']);
    } finally {
      await exec('web', ['systemctl', 'start', 'mariadb']);
    }
    // Pseudo and temporary filesystems came as empty directories: not the machine's /proc, nor its /run.
    const copied = join(d.dir, 'storage', 'default', 'containers', 'web3', 'rootfs');
    for (const dir of ['proc', 'sys', 'dev', 'run']) assert.deepEqual(readdirSync(join(copied, dir)), [], dir);
    assert.ok(existsSync(join(copied, 'var', 'lib', 'mysql')));
    const { report } = (await d.api().get('/1.0/migrations/web3').expect(200)).body.metadata;
    assert.equal(report.source.kind, 'ssh');
    assert.equal(report.source.path, `root@${address}:/`);
    // The machine copied is the container imported above: its network already is eth0 by DHCP.
    assert.equal(report.network.config, 'ifupdown');
    assert.equal(report.network.mode, 'dhcp');
    const port = await freePort();
    await ok(['config', 'device', 'add', 'web3', 'http', 'proxy', `listen=tcp:127.0.0.1:${port}`, 'connect=tcp:127.0.0.1:80']);
    await ok(['start', 'web3']);
    const running = await exec('web3', ['systemctl', 'is-system-running', '--wait']);
    assert.equal(running.stdout.trim(), 'running', (await exec('web3', ['systemctl', '--failed', '--no-legend'])).stdout);
    // The copy has what the running machine had: the row added after the first migration.
    const listed = await page(port);
    assert.match(listed, /after-migration/);
    for (const row of vm.rows) assert.match(listed, new RegExp(row));
    await ok(['stop', 'web3']);
    await ok(['delete', 'web3']);
  });

  it('refuses bad sources with a clear error and creates nothing', async () => {
    const truncated = join(scratch, 'truncated.tar.gz');
    const { size } = await stat(vm.tarball);
    const source = await open(vm.tarball, 'r');
    const half = Buffer.alloc(Math.floor(size / 2));
    await source.read(half, 0, half.length, 0);
    await source.close();
    await writeFile(truncated, half);
    const notRoot = join(scratch, 'not-a-root');
    await mkdir(join(notRoot, 'photos'), { recursive: true });
    await writeFile(join(notRoot, 'photos', 'a.jpg'), 'jpeg');
    const swapOnly = join(scratch, 'swap-only.raw');
    await run('truncate', ['-s', '64M', swapOnly]);
    await run('sh', ['-c', `printf 'label: gpt\\n,,0657FD6D-A4AB-43C4-84E5-0933C84B4F4F\\n' | sfdisk -q ${swapOnly}`]);
    const cases: Array<[string, string, RegExp]> = [
      [truncated, 'bad1', /truncated|unexpected end|corrupt/i],
      [notRoot, 'bad2', /root file ?system/i],
      [swapOnly, 'bad3', /no Linux root partition|partition/i],
      [join(scratch, 'missing.tar'), 'bad4', /does not exist/],
      [vm.tarball, 'web', /already exists/],
    ];
    const volumesBefore = volumes();
    for (const [path, name, message] of cases) {
      const r = await berth(['import-vm', path, name, '-p', 'default', '-p', 'lan']);
      assert.notEqual(r.code, 0, `${path} was accepted`);
      assert.match(r.stderr, message, `${path}: ${r.stderr}`);
    }
    assert.deepEqual((await instances()).sort(), ['/1.0/instances/web']);
    assert.deepEqual(volumes(), volumesBefore);
    const migrations = (await d.api().get('/1.0/migrations').expect(200)).body.metadata;
    assert.deepEqual(migrations, ['/1.0/migrations/web']);
    assert.deepEqual(readdirSync(join(d.dir, 'migrate')), []);
  });

  it('left the sources as they were', async () => {
    assert.equal(await sha256(vm.tarball), sums.tarball);
    assert.equal(await sha256(vm.rawDisk), sums.rawDisk);
  });
});
