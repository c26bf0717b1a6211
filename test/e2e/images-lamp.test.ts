// The LAMP pair: images/debian-12-lamp built and launched with the real CLI on the default network
// serves the notes application (Apache, mod_php, MariaDB) to the host; and the LAMP "VM" fixture
// that `berth import-vm` is proven on has the shape of a Debian VM (tree, tarball, GPT disk).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { runBerth, type CliRun } from '../support/cli.js';
import { ensureLampVm, type LampVm } from '../support/lamp-vm.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const BUILD = { timeout: 30 * 60 * 1000 };

interface Reply {
  status: number;
  type: string;
  body: string;
}

/** One HTTP request from the host to `address`:80, with an optional urlencoded form. */
function http(address: string, path: string, form?: Record<string, string>): Promise<Reply> {
  const body = form ? new URLSearchParams(form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: address,
        port: 80,
        path,
        method: body === undefined ? 'GET' : 'POST',
        headers: body === undefined ? {} : { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body) },
        timeout: 30_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: text }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET http://${address}${path}: no answer`)));
    req.on('error', reject);
    req.end(body);
  });
}

describe('the debian-12-lamp image (real CLI, real container, default network)', () => {
  let d: Daemon;
  const net = `btl${process.pid % 100000}`;
  const berth = (...args: string[]): Promise<CliRun> => runBerth(args, { env: d.env, cwd: REPO, timeoutMs: BUILD.timeout });
  const ok = async (...args: string[]) => {
    const r = await berth(...args);
    assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  /** The DHCP address the container's eth0 got, as the daemon reports it. */
  const address = async (name: string): Promise<string> => {
    for (let i = 0; i < 300; i++) {
      const state = (await d.api().get(`/1.0/instances/${name}/state`).expect(200)).body.metadata;
      const found = state.network?.eth0?.addresses?.find((a: { family: string }) => a.family === 'inet')?.address;
      if (found) return found as string;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${name} got no address`);
  };

  before(async () => {
    d = await startDaemon({ env: { BERTH_DEFAULT_NETWORK: net } });
  });
  after(async () => {
    const settle = async (res: { status: number; body: { operation?: string } }) => {
      if (res.status === 202) await d.api().get(`${res.body.operation}/wait`);
    };
    await settle(await d.api().put('/1.0/instances/web/state').send({ action: 'stop', force: true }));
    await settle(await d.api().delete('/1.0/instances/web'));
    await d.api().delete(`/1.0/networks/${net}`);
    await d.destroy();
  });

  it('builds the image from its recipe with berth image build', BUILD, async () => {
    assert.match(await ok('image', 'build', 'images/debian-12-lamp', '--alias', 'debian-12-lamp'), /^Image imported with fingerprint: [0-9a-f]{64}\n$/);
    const image = (await d.api().get('/1.0/images/aliases/debian-12-lamp').expect(200)).body.metadata;
    const properties = (await d.api().get(`/1.0/images/${image.target}`).expect(200)).body.metadata.properties;
    assert.deepEqual({ os: properties.os, release: properties.release }, { os: 'debian', release: '12' });
  });

  it('boots to running with apache2 and mariadb active, and the application\'s table empty', async () => {
    assert.equal(await ok('launch', 'debian-12-lamp', 'web'), 'Instance web started\n');
    assert.equal(await ok('exec', 'web', '--', 'systemctl', 'is-system-running', '--wait'), 'running\n');
    assert.equal(await ok('exec', 'web', '--', 'systemctl', 'is-active', 'apache2', 'mariadb'), 'active\nactive\n');
    assert.equal(await ok('exec', 'web', '--', 'mariadb', '--batch', '--skip-column-names', '-e', 'SELECT COUNT(*) FROM notes.notes'), '0\n');
  });

  it('serves the notes application to the host: an empty list, an add by GET and by POST, the list', async () => {
    const ip = await address('web');
    const empty = await http(ip, '/');
    assert.deepEqual(empty, { status: 200, type: 'text/plain; charset=utf-8', body: '' });
    assert.equal((await http(ip, `/?add=${encodeURIComponent('hello from the host')}`)).body, '1\thello from the host\n');
    assert.equal((await http(ip, '/', { add: 'posted: ünïcode & more' })).body, '1\thello from the host\n2\tposted: ünïcode & more\n');
    assert.deepEqual(await http(ip, '/index.php'), { status: 200, type: 'text/plain; charset=utf-8', body: '1\thello from the host\n2\tposted: ünïcode & more\n' });
    assert.equal(
      await ok('exec', 'web', '--', 'mariadb', '--batch', '--skip-column-names', '-e', 'SELECT body FROM notes.notes ORDER BY id'),
      'hello from the host\nposted: ünïcode & more\n',
    );
  });
});

describe('the LAMP VM fixture (no daemon)', () => {
  let vm: LampVm;
  const tree = (...parts: string[]) => join(vm.rootfs, ...parts);

  before(async () => {
    vm = await ensureLampVm();
  }, BUILD);

  it('is built once: a second call returns the same files', async () => {
    for (const file of [vm.rootfs, vm.tarball, vm.rawDisk]) assert.ok(existsSync(file), file);
    assert.deepEqual(await ensureLampVm(), vm);
    assert.deepEqual(
      { rows: vm.rows, hostname: vm.hostname, user: vm.user, staticAddress: vm.staticAddress, oldInterface: vm.oldInterface },
      { rows: ['before-migration-1', 'before-migration-2', 'before-migration-3'], hostname: 'lampvm', user: 'alice', staticAddress: '192.168.122.50/24', oldInterface: 'ens3' },
    );
  });

  it('looks like a VM, not a container: ifupdown on ens3, a VM fstab, identity, users, cron, a kernel', async () => {
    assert.equal(await readFile(tree('etc/hostname'), 'utf8'), 'lampvm\n');
    assert.match(await readFile(tree('etc/machine-id'), 'utf8'), /^[0-9a-f]{32}\n$/);
    const interfaces = await readFile(tree('etc/network/interfaces'), 'utf8');
    assert.match(interfaces, /^auto ens3\niface ens3 inet static\n\taddress 192\.168\.122\.50\/24\n\tgateway 192\.168\.122\.1\n/m);
    assert.deepEqual((await readdir(tree('etc/systemd/network'))).filter((f) => f.endsWith('.network')), []);
    assert.equal(await readlink(tree('etc/systemd/system/multi-user.target.wants/networking.service')), '/lib/systemd/system/networking.service');
    const fstab = (await readFile(tree('etc/fstab'), 'utf8')).split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/\s+/));
    assert.deepEqual(fstab.map((f) => f.slice(1, 3)), [['/', 'ext4'], ['/boot', 'ext4'], ['none', 'swap'], ['/tmp', 'tmpfs'], ['/media/cdrom0', 'udf,iso9660']]);
    assert.match(fstab[0]![0]!, /^UUID=[0-9a-f-]{36}$/);
    assert.deepEqual(fstab[2], ['/dev/vda3', 'none', 'swap', 'sw', '0', '0']);
    for (const key of ['rsa', 'ecdsa', 'ed25519']) assert.ok(existsSync(tree(`etc/ssh/ssh_host_${key}_key`)), key);
    assert.match(await readFile(tree('etc/passwd'), 'utf8'), /^alice:x:1001:1001:[^:]*:\/home\/alice:\/bin\/bash$/m);
    assert.ok(existsSync(tree('home/alice/todo.txt')));
    assert.match(await readFile(tree('var/spool/cron/crontabs/alice'), 'utf8'), /^\*\/5 \* \* \* \* date >> \/home\/alice\/cron\.log$/m);
    assert.match(await readFile(tree('etc/cron.d/heartbeat'), 'utf8'), /^\* \* \* \* \* root date > \/var\/lib\/heartbeat$/m);
    assert.ok((await readdir(tree('boot'))).includes('vmlinuz-6.1.0-21-amd64'));
    assert.ok(existsSync(tree('etc/kernel/postinst.d/zz-update-grub')));
    assert.deepEqual(await readdir(tree('var/lib/mysql/notes')).then((f) => f.sort()), ['db.opt', 'notes.frm', 'notes.ibd']);
    // The rows are in the table's tablespace itself, not only in the redo log: MariaDB shut down cleanly.
    const tablespace = (await readFile(tree('var/lib/mysql/notes/notes.ibd'))).toString('latin1');
    for (const row of vm.rows) assert.ok(tablespace.includes(row), row);
  });

  it('packs the tree as a VM would: the tarball holds /etc/fstab and the MariaDB data', async () => {
    const { stdout } = await run('tar', ['-tzf', vm.tarball], { maxBuffer: 256 * 1024 * 1024 });
    const names = new Set(stdout.split('\n'));
    for (const name of ['./etc/fstab', './var/lib/mysql/', './var/lib/mysql/notes/notes.ibd', './etc/network/interfaces', './home/alice/']) assert.ok(names.has(name), name);
  });

  it('writes a GPT disk: BIOS boot, /boot, swap and the root filesystem fstab names', async () => {
    const table = JSON.parse((await run('sfdisk', ['--json', vm.rawDisk])).stdout).partitiontable as {
      label: string;
      sectorsize: number;
      partitions: { start: number; size: number; type: string }[];
    };
    assert.equal(table.label, 'gpt');
    assert.deepEqual(table.partitions.map((p) => p.type), [
      '21686148-6449-6E6F-744E-656564454649',
      '0FC63DAF-8483-4772-8E79-3D69D8477DE4',
      '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F',
      '0FC63DAF-8483-4772-8E79-3D69D8477DE4',
    ]);
    const [bios, boot, swap, root] = table.partitions.map((p) => ({ offset: p.start * table.sectorsize, bytes: p.size * table.sectorsize }));
    assert.equal(bios!.bytes, 1024 * 1024);
    assert.equal(swap!.bytes, 64 * 1024 * 1024);
    const probe = async (part: { offset: number; bytes: number }) =>
      (await run('blkid', ['-p', '-o', 'export', '-O', String(part.offset), '-S', String(part.bytes), vm.rawDisk])).stdout;
    assert.match(await probe(swap!), /^TYPE=swap$/m);
    assert.match(await probe(boot!), /^TYPE=ext4$/m);
    const rootUuid = (await readFile(tree('etc/fstab'), 'utf8')).match(/^UUID=(\S+)\s+\/\s/m)![1];
    const rootProbe = await probe(root!);
    assert.match(rootProbe, /^TYPE=ext4$/m);
    assert.match(rootProbe, new RegExp(`^UUID=${rootUuid}$`, 'm'));
    // Read without mounting: the root filesystem has the VM's files and an empty /boot, which the
    // /boot partition holds.
    const debugfs = async (part: { offset: number }, command: string) =>
      (await run('debugfs', ['-R', command, `${vm.rawDisk}?offset=${part.offset}`])).stdout;
    assert.equal(await debugfs(root!, 'cat /etc/hostname'), 'lampvm\n');
    assert.match(await debugfs(root!, 'ls -p /var/lib/mysql/notes'), /\/notes\.ibd\//);
    assert.doesNotMatch(await debugfs(root!, 'ls -p /boot'), /vmlinuz/);
    assert.match(await debugfs(boot!, 'ls -p /'), /\/vmlinuz-6\.1\.0-21-amd64\//);
    await run('e2fsck', ['-fn', `${vm.rawDisk}?offset=${root!.offset}`]);
  });
});
