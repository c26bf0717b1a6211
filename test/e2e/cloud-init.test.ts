// cloud-init provisions a container at its first boot through the guest API: the debian-12-cloud
// image launched with `cloud-init.user-data` gets its user, its file and its command's effect,
// read by cloud-init's LXD datasource from /dev/lxd/sock, with nothing installed from the
// network; eth0 still gets its address by DHCP. The instance-id cloud-init sees is the server's
// `volatile.cloud-init.instance-id`, renewed when the user-data changes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { daemonApi } from '../support/api.js';
import { ensureCloudImage } from '../support/cloud-image.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { configureLxc, lxcRunner } from '../support/lxc.js';

const USER_DATA = `#cloud-config
users:
  - name: alice
    gecos: Alice Example
    shell: /bin/bash
    lock_passwd: true
write_files:
  - path: /etc/berth-note.txt
    content: |
      written by cloud-init
    permissions: '0640'
runcmd:
  - [sh, -c, 'echo "ran as $(id -un) on $(hostname)" > /var/tmp/runcmd.out']
`;

describe('cloud-init through the guest API (real daemon, real container, real lxc client)', () => {
  let d: Daemon;
  const net = `bci${process.pid % 100000}`;
  const { exec, address, removeInstances } = daemonApi(() => d);
  const lxc = lxcRunner(() => d, 300_000);
  const inside = async (...command: string[]) => {
    const r = await exec('ci', command);
    assert.equal(r.code, 0, `${command.join(' ')}: ${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  const config = async () => (await d.api().get('/1.0/instances/ci').expect(200)).body.metadata.config as Record<string, string>;

  before(async () => {
    d = await startDaemon({ env: { BERTH_DEFAULT_NETWORK: net } });
    await configureLxc(d);
    await lxc('image', 'import', await ensureCloudImage(), '--alias', 'cloud');
    await lxc('init', 'cloud', 'ci', '-c', 'user.foo=bar');
    await d.api().patch('/1.0/instances/ci').send({ config: { 'cloud-init.user-data': USER_DATA } }).expect(200);
    await lxc('start', 'ci');
  });
  after(async () => {
    await removeInstances('ci');
    await d.api().delete(`/1.0/networks/${net}`);
    await d.destroy();
  });

  it('cloud-init finishes without an error', async () => {
    assert.match(await inside('cloud-init', 'status', '--wait'), /status: done\n$/);
  });

  it('its datasource was LXD, with the instance-id the server keeps', async () => {
    assert.equal(await inside('cloud-init', 'query', 'v1.platform'), 'lxd\n');
    assert.equal(await inside('cloud-init', 'query', 'v1.instance_id'), `${(await config())['volatile.cloud-init.instance-id']}\n`);
  });

  it('the user-data made the user, wrote the file and ran the command', async () => {
    assert.equal(await inside('getent', 'passwd', 'alice'), 'alice:x:1000:1000:Alice Example:/home/alice:/bin/bash\n');
    assert.equal(await inside('cat', '/etc/berth-note.txt'), 'written by cloud-init\n');
    assert.equal(await inside('stat', '-c', '%a', '/etc/berth-note.txt'), '640\n');
    assert.equal(await inside('cat', '/var/tmp/runcmd.out'), 'ran as root on ci\n');
  });

  it('nothing was installed: no apt run in cloud-init\'s log, the sources as built', async () => {
    const log = await inside('cat', '/var/log/cloud-init.log');
    assert.doesNotMatch(log, /Running command \['(apt-get|eatmydata)'/);
    assert.doesNotMatch(await inside('sh', '-c', 'cat /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null || true'), /cloud-init/i);
  });

  it("eth0 got its address by DHCP from the networkd file cloud-init rendered (its fallback: DHCP on eth0)", async () => {
    assert.match(await address('ci'), /^\d+\.\d+\.\d+\.\d+$/);
    assert.match(await inside('cat', '/etc/systemd/network/10-cloud-init-eth0.network'), /^\[Match\]\nName=eth0\n\n\[Network\]\nDHCP=ipv4\n+$/);
    assert.match(await inside('networkctl', 'status', 'eth0'), /Network File: \/etc\/systemd\/network\/10-cloud-init-eth0\.network[\s\S]*State: routable/);
  });

  it('a change of the user-data renews the instance-id (cloud-init provisions again); another user.* key does not', async () => {
    const first = (await config())['volatile.cloud-init.instance-id'];
    await d.api().patch('/1.0/instances/ci').send({ config: { 'user.foo': 'baz' } }).expect(200);
    assert.equal((await config())['volatile.cloud-init.instance-id'], first);
    await d.api().patch('/1.0/instances/ci').send({ config: { 'cloud-init.user-data': `${USER_DATA}# changed\n` } }).expect(200);
    const renewed = (await config())['volatile.cloud-init.instance-id'];
    assert.match(renewed, /^[0-9a-f-]{36}$/);
    assert.notEqual(renewed, first);
  });

  it('user-data that is not YAML after #cloud-config is refused, naming the key, and nothing changes', async () => {
    const before = await config();
    const res = await d.api().patch('/1.0/instances/ci').send({ config: { 'cloud-init.user-data': '#cloud-config\nruncmd: [a\n' } });
    assert.equal(res.status, 400);
    assert.match(res.body.error, /^Invalid config\["cloud-init.user-data"\]: must be valid YAML/);
    assert.deepEqual(await config(), before);
  });
});
