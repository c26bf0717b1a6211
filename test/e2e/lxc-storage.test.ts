import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { ensureDebianImage } from '../support/debian-image.js';
import { listen } from '../support/events.js';
import { configureLxc, lxcEnv, lxcRunner } from '../support/lxc.js';

const exec = promisify(execFile);
const MINUTES = 60_000;

/** A pylxd 2.2 script (Debian's python3-pylxd, so Debian's python3) against the daemon's socket, found through LXD_DIR as pylxd does. */
const PYLXD = `
import json, pylxd
client = pylxd.Client()
pools = client.storage_pools.all()
pool = client.storage_pools.get('default')
res = pool.resources.get()
vol = pool.volumes.get('container', 'c1')
names = sorted(v.name for v in pool.volumes.all())
pool.description = 'set by pylxd'
pool.save()
print(json.dumps({
  'all': [p.name for p in pools],
  'driver': pool.driver, 'status': pool.status, 'source': pool.config.get('source'), 'used_by': pool.used_by,
  'space': res.space, 'inodes': res.inodes,
  'volume': {'name': vol.name, 'type': vol.type, 'used_by': vol.used_by, 'location': vol.location},
  'volume_names': names,
  'description': client.storage_pools.get('default').description,
  'has': client.has_api_extension('storage') and client.has_api_extension('resources'),
}))
`;

/** Bytes du(1) counts for a path, as the volume state should. */
async function du(path: string): Promise<number> {
  const { stdout } = await exec('du', ['--summarize', '--block-size=1', '--one-file-system', path]).catch((err: { stdout: string }) => ({ stdout: err.stdout }));
  return Number(stdout.split('\t')[0]);
}

/** The storage pools API with LXD 5.0.2's `lxc storage ...` and pylxd: Berth's pool `default` and its volumes. */
describe('lxc storage against berthd', () => {
  let d: Daemon;
  let fingerprint: string;
  const lxc = lxcRunner(() => d, 3 * MINUTES);
  const poolDir = () => join(d.dir, 'storage', 'default');
  const failure = async (args: string[]) => {
    const err = await lxc(...args).then(
      () => assert.fail(`lxc ${args.join(' ')} succeeded`),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(err.code, 1);
    return err.stderr.trim();
  };

  before(async () => {
    d = await startDaemon();
    await configureLxc(d);
    await lxc('image', 'import', await ensureDebianImage(), '--alias', 'debian/12');
    fingerprint = (await d.api().get('/1.0/images/aliases/debian/12').expect(200)).body.metadata.target;
  });
  after(async () => {
    await d.destroy();
  });

  it('announces storage, resources and storage_volume_state, and gives a fresh default profile its root disk on the pool', async () => {
    const extensions: string[] = (await d.api().get('/1.0').expect(200)).body.metadata.api_extensions;
    for (const name of ['storage', 'resources', 'storage_volume_state']) assert.ok(extensions.includes(name), name);
    const profile = parseYaml((await lxc('profile', 'show', 'default')).stdout);
    assert.deepEqual(profile.devices.root, { type: 'disk', path: '/', pool: 'default' });
  });

  it('lxc storage list and show: the pool, its driver, its loop file or directory, and what uses it', async () => {
    const pool = (await d.api().get('/1.0/storage-pools/default').expect(200)).body.metadata;
    const driver: string = pool.driver;
    assert.ok(driver === 'btrfs' || driver === 'dir', driver);
    const source = driver === 'btrfs' ? join(d.dir, 'disks', 'default.img') : poolDir();
    assert.ok(existsSync(source), source);

    const list = JSON.parse((await lxc('storage', 'list', '--format', 'json')).stdout);
    assert.deepEqual(
      list.map((p: { name: string; driver: string; status: string; config: Record<string, string> }) => [p.name, p.driver, p.status, p.config.source]),
      [['default', driver, 'Created', source]],
    );
    const names = async (query: string) => (await d.api().get(`/1.0/storage-pools?${query}`).expect(200)).body.metadata.map((p: string | { name: string }) => (typeof p === 'string' ? p : p.name));
    assert.deepEqual(await names(''), ['/1.0/storage-pools/default']);
    assert.deepEqual(await names(`recursion=2&filter=driver eq ${driver}`), ['default']);
    assert.deepEqual(await names('recursion=1&filter=driver eq zfs'), []);
    assert.deepEqual(await names('filter=status eq created'), ['/1.0/storage-pools/default']);
    const table = (await lxc('storage', 'list', '--format', 'csv')).stdout.trim();
    assert.match(table, new RegExp(`^default,${driver},${source},,\\d+,CREATED$`));

    const shown = parseYaml((await lxc('storage', 'show', 'default')).stdout);
    assert.equal(shown.name, 'default');
    assert.equal(shown.driver, driver);
    assert.equal(shown.status, 'Created');
    assert.deepEqual(shown.locations, ['none']);
    assert.equal(shown.config.source, source);
    if (driver === 'btrfs') assert.match(shown.config.size, /^\d+(GiB|MiB)$/);
    assert.deepEqual(shown.used_by, [`/1.0/images/${fingerprint}`, '/1.0/profiles/default']);
  });

  it('lxc storage info and show --resources: space and inodes of the pool\'s filesystem', async () => {
    const fs = await statfs(poolDir());
    const info = parseYaml((await lxc('storage', 'info', 'default', '--bytes')).stdout);
    const total = Number(info.info['total space']);
    const used = Number(info.info['space used']);
    assert.equal(info.info.name, 'default');
    assert.equal(total, fs.blocks * fs.bsize, 'the total is the filesystem\'s size');
    assert.ok(used > 0 && used <= total, `used ${used} of ${total}`);
    assert.deepEqual(info['used by'], { images: [fingerprint], profiles: ['default'] });

    const resources = parseYaml((await lxc('storage', 'show', 'default', '--resources')).stdout);
    assert.equal(resources.space.total, total);
    assert.ok(resources.space.used > 0 && resources.space.used <= resources.space.total);
    // LXD's client leaves out an all-zero inodes block: btrfs reports no inode counts (statfs' f_files is 0).
    const inodes = (await d.api().get('/1.0/storage-pools/default/resources').expect(200)).body.metadata.inodes;
    assert.equal(inodes.total, fs.files);
    assert.ok(inodes.used >= 0 && inodes.used <= inodes.total, `inodes ${inodes.used} of ${inodes.total}`);
    assert.deepEqual(resources.inodes, inodes.total === 0 ? undefined : inodes);
  });

  it('lxc launch -s default puts the root disk on the pool; its volume and its image\'s are listed with what uses them', { timeout: 5 * MINUTES }, async () => {
    await lxc('launch', 'debian/12', 'c1', '-s', 'default');
    const instance = (await d.api().get('/1.0/instances/c1').expect(200)).body.metadata;
    assert.deepEqual(instance.devices.root, { type: 'disk', path: '/', pool: 'default' });
    assert.ok(existsSync(join(poolDir(), 'containers', 'c1', 'rootfs', 'etc', 'os-release')));

    const rows = (await lxc('storage', 'volume', 'list', 'default', '--format', 'csv', '-c', 'tnu')).stdout.trim().split('\n').sort();
    assert.deepEqual(rows, [`container,c1,1`, `image,${fingerprint},1`]);
    const volume = parseYaml((await lxc('storage', 'volume', 'show', 'default', 'container/c1')).stdout);
    assert.deepEqual(
      { name: volume.name, type: volume.type, used_by: volume.used_by, content_type: volume.content_type, location: volume.location },
      { name: 'c1', type: 'container', used_by: ['/1.0/instances/c1'], content_type: 'filesystem', location: 'none' },
    );
    const image = (await d.api().get(`/1.0/storage-pools/default/volumes/image/${fingerprint}`).expect(200)).body.metadata;
    assert.deepEqual(image.used_by, [`/1.0/images/${fingerprint}`]);

    assert.deepEqual((await d.api().get('/1.0/storage-pools/default/volumes').expect(200)).body.metadata.sort(), [
      '/1.0/storage-pools/default/volumes/container/c1',
      `/1.0/storage-pools/default/volumes/image/${fingerprint}`,
    ]);
    assert.deepEqual((await d.api().get('/1.0/storage-pools/default/volumes/container?recursion=1').expect(200)).body.metadata.map((v: { name: string }) => v.name), ['c1']);
    assert.deepEqual((await d.api().get('/1.0/storage-pools/default/volumes?recursion=1&filter=type eq image').expect(200)).body.metadata.map((v: { name: string }) => v.name), [fingerprint]);
    assert.deepEqual((await d.api().get('/1.0/storage-pools/default/volumes?filter=orphan').expect(200)).body.metadata, []);
    assert.deepEqual((await d.api().get('/1.0/storage-pools/default/volumes/custom').expect(200)).body.metadata, []);

    const pool = (await d.api().get('/1.0/storage-pools/default').expect(200)).body.metadata;
    assert.deepEqual(pool.used_by, [`/1.0/images/${fingerprint}`, '/1.0/instances/c1', '/1.0/profiles/default']);
  });

  it('a volume\'s state is its usage as du counts it; the USAGE column of lxc storage volume list shows it', async () => {
    await lxc('stop', 'c1', '--force');
    const state = (await d.api().get('/1.0/storage-pools/default/volumes/container/c1/state').expect(200)).body.metadata;
    assert.deepEqual(state.usage, { used: await du(join(poolDir(), 'containers', 'c1')), total: 0 });
    assert.ok(state.usage.used > 100 * 2 ** 20, `a Debian root takes more than 100MiB: ${state.usage.used}`);
    const usage = (await lxc('storage', 'volume', 'list', 'default', 'type=container', '--format', 'csv', '-c', 'nU')).stdout.trim();
    assert.match(usage, /^c1,\d+(\.\d+)?(MiB|GiB)$/);
    const image = await d.api().get(`/1.0/storage-pools/default/volumes/image/${fingerprint}/state`).expect(400);
    assert.match(image.body.error, /"image" has no state/);
  });

  it('lxc launch -s nope fails with LXD\'s message and leaves no instance and no volume; the API refuses the same root disk', async () => {
    assert.equal(await failure(['launch', 'debian/12', 'c2', '-s', 'nope']), 'Error: Failed loading storage pool "nope": Storage pool not found');
    const res = await d.api().post('/1.0/instances').send({ name: 'c3', source: { type: 'image', alias: 'debian/12' }, devices: { root: { type: 'disk', path: '/', pool: 'nope' } } }).expect(400);
    assert.equal(res.body.error, 'Invalid devices["root"]["pool"]: Storage pool not found: "nope"');
    for (const name of ['c2', 'c3']) {
      await d.api().get(`/1.0/instances/${name}`).expect(404);
      assert.equal(existsSync(join(poolDir(), 'containers', name)), false, name);
    }
    assert.deepEqual((await d.api().get('/1.0/instances').expect(200)).body.metadata, ['/1.0/instances/c1']);
    assert.equal(await failure(['config', 'device', 'set', 'c1', 'root', 'pool=nope']), 'Error: Invalid devices["root"]["pool"]: Storage pool not found: "nope"');
    assert.deepEqual((await d.api().get('/1.0/instances/c1').expect(200)).body.metadata.devices.root, { type: 'disk', path: '/', pool: 'default' });
  });

  it('answers unknown pools and volumes in LXD\'s envelope and wording', async () => {
    for (const url of ['/1.0/storage-pools/nope', '/1.0/storage-pools/nope/resources', '/1.0/storage-pools/nope/volumes', '/1.0/storage-pools/nope/volumes/container/c1']) {
      const res = await d.api().get(url).expect(404);
      assert.deepEqual({ type: res.body.type, error_code: res.body.error_code, error: res.body.error }, { type: 'error', error_code: 404, error: 'Storage pool not found' }, url);
    }
    for (const url of ['/1.0/storage-pools/default/volumes/container/nope', '/1.0/storage-pools/default/volumes/custom/c1', '/1.0/storage-pools/default/volumes/container/nope/state']) {
      const res = await d.api().get(url).expect(404);
      assert.equal(res.body.error, 'Storage volume not found', url);
    }
    const badType = await d.api().get('/1.0/storage-pools/default/volumes/disks').expect(400);
    assert.match(badType.body.error, /"disks" is not a storage volume type/);
    assert.equal(await failure(['storage', 'show', 'nope']), 'Error: Storage pool not found');
    assert.equal(await failure(['storage', 'volume', 'show', 'default', 'container/nope']), 'Error: Storage volume not found');
  });

  it('refuses what Berth does not do, naming why, and changes nothing', async () => {
    const before = (await d.api().get('/1.0/storage-pools/default').expect(200)).body.metadata;
    assert.match(await failure(['storage', 'create', 'p2', 'dir']), /Cannot create storage pool "p2": Berth has one storage pool, "default"/);
    assert.match(await failure(['storage', 'create', 'default', 'dir']), /Storage pool "default" already exists/);
    assert.match(await failure(['storage', 'delete', 'default']), /The storage pool is currently in use/);
    assert.match(await failure(['storage', 'volume', 'create', 'default', 'data']), /Cannot create a custom storage volume: Berth has no custom volumes/);
    assert.match(await failure(['storage', 'volume', 'delete', 'default', 'container/c1']), /Cannot delete storage volume "c1" of type "container" through the storage API: it follows its instance/);
    assert.match(await failure(['storage', 'set', 'default', 'size', '1GiB']), /Invalid config\["size"\]: cannot be changed/);
    assert.match(await failure(['storage', 'set', 'default', 'volume.size', '1GiB']), /Invalid config\["volume.size"\]: is not supported/);
    const after = (await d.api().get('/1.0/storage-pools/default').expect(200)).body.metadata;
    assert.deepEqual(after, before);
    assert.ok(existsSync(join(poolDir(), 'containers', 'c1')));
    assert.equal(existsSync(join(poolDir(), 'containers', 'data')), false);
  });

  it('keeps a description and user keys: lxc storage set and unset, PATCH, and a stale ETag refused; each change is a lifecycle event', async () => {
    const events = await listen(d.socket, 'lifecycle');
    await lxc('storage', 'set', 'default', 'user.team', 'ops');
    const updated = await events.waitFor((e) => e.metadata.action === 'storage-pool-updated');
    events.close();
    assert.equal(updated.metadata.source, '/1.0/storage-pools/default');
    await d.api().patch('/1.0/storage-pools/default').send({ description: 'Berth pool' }).expect(200);
    let pool = (await d.api().get('/1.0/storage-pools/default').expect(200)).body.metadata;
    assert.equal(pool.description, 'Berth pool');
    assert.equal(pool.config['user.team'], 'ops');
    const stale = (await d.api().get('/1.0/storage-pools/default').expect(200)).headers.etag;
    await lxc('storage', 'unset', 'default', 'user.team');
    await d.api().patch('/1.0/storage-pools/default').set('If-Match', stale).send({ description: 'late' }).expect(412);
    pool = (await d.api().get('/1.0/storage-pools/default').expect(200)).body.metadata;
    assert.equal(pool.config['user.team'], undefined);
    assert.equal(pool.description, 'Berth pool');
  });

  it('pylxd lists the pools, reads the default one, its resources and volumes, and saves its description', async () => {
    const { stdout } = await exec('/usr/bin/python3', ['-c', PYLXD], { env: { ...lxcEnv(d), PYLXD_WARNINGS: 'none' } });
    const out = JSON.parse(stdout);
    const api = (await d.api().get('/1.0/storage-pools/default').expect(200)).body.metadata;
    assert.deepEqual(out.all, ['default']);
    assert.equal(out.driver, api.driver);
    assert.equal(out.status, 'Created');
    assert.equal(out.source, api.config.source);
    assert.deepEqual(out.used_by, api.used_by);
    assert.ok(out.space.used > 0 && out.space.used <= out.space.total);
    assert.ok(typeof out.inodes.total === 'number' && typeof out.inodes.used === 'number');
    assert.deepEqual(out.volume, { name: 'c1', type: 'container', used_by: ['/1.0/instances/c1'], location: 'none' });
    assert.deepEqual(out.volume_names, ['c1', fingerprint].sort());
    assert.equal(out.description, 'set by pylxd');
    assert.equal(api.description, 'set by pylxd');
    assert.equal(out.has, true);
  });
});

/** The same pool API over a dir pool (BERTH_STORAGE_DRIVER=dir): the pool is a directory on the host's filesystem. */
describe('lxc storage against berthd with a dir pool', () => {
  let d: Daemon;
  const lxc = lxcRunner(() => d, 3 * MINUTES);

  before(async () => {
    d = await startDaemon({ env: { BERTH_STORAGE_DRIVER: 'dir' } });
    await configureLxc(d);
  });
  after(async () => {
    await d.destroy();
  });

  it('shows the directory as the source, no size, the host filesystem\'s space, and the image volume', async () => {
    await lxc('image', 'import', await ensureDebianImage(), '--alias', 'debian/12');
    const fingerprint = (await d.api().get('/1.0/images/aliases/debian/12').expect(200)).body.metadata.target;
    const poolDir = join(d.dir, 'storage', 'default');
    const shown = parseYaml((await lxc('storage', 'show', 'default')).stdout);
    assert.equal(shown.driver, 'dir');
    assert.deepEqual(shown.config, { source: poolDir });
    assert.deepEqual(shown.used_by, [`/1.0/images/${fingerprint}`, '/1.0/profiles/default']);

    const fs = await statfs(poolDir);
    const info = parseYaml((await lxc('storage', 'info', 'default', '--bytes')).stdout);
    assert.equal(info.info.driver, 'dir');
    assert.equal(Number(info.info['total space']), fs.blocks * fs.bsize);
    assert.ok(Number(info.info['space used']) > 0 && Number(info.info['space used']) <= fs.blocks * fs.bsize);
    const inodes = (await d.api().get('/1.0/storage-pools/default/resources').expect(200)).body.metadata.inodes;
    assert.equal(inodes.total, fs.files);

    const rows = (await lxc('storage', 'volume', 'list', 'default', '--format', 'csv', '-c', 'tnu')).stdout.trim().split('\n');
    assert.deepEqual(rows, [`image,${fingerprint},1`]);
  });
});
