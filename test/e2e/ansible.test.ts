import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { ansibleFiles, ansibleInventory, ansiblePlaybook, ensureAnsibleTargetImage, type PlaybookRun } from '../support/ansible.js';
import { daemonApi } from '../support/api.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { configureLxc, lxcRunner } from '../support/lxc.js';

/**
 * Ansible (Debian's ansible 7.7: ansible-core 2.14 and community.general 6.6), unchanged, driving
 * a real berthd: the lxd_profile and lxd_container modules on the daemon's Unix socket, the lxd
 * connection plugin (which runs `lxc exec` and `lxc file push`) and the lxd inventory plugin.
 */
describe('Ansible against berthd', () => {
  let d: Daemon;
  const net = `ban${process.pid % 100000}`;
  const lxc = lxcRunner(() => d);
  const { finish, removeInstances, exec } = daemonApi(() => d);
  const url = () => `unix:${d.socket}`;

  /** A playbook of `tasks` run on localhost (the modules talk to the daemon from the host). */
  const local = (tasks: unknown[]) => stringify([{ hosts: 'localhost', connection: 'local', gather_facts: false, tasks }]);
  /** The one lxd_container task with `options` for instance an1. */
  const container = async (options: Record<string, unknown>): Promise<PlaybookRun> => {
    await ansibleFiles(d, { 'container.yml': local([{ name: 'an1', 'community.general.lxd_container': { name: 'an1', url: url(), timeout: 120, ...options } }]) });
    return ansiblePlaybook(d, 'container.yml');
  };
  const succeeded = (run: PlaybookRun) => {
    assert.equal(run.code, 0, JSON.stringify(run.results.filter((r) => r.failed)) + run.stderr);
    return run.results;
  };
  const status = async (name: string) => (await d.api().get(`/1.0/instances/${name}`).expect(200)).body.metadata.status;
  const inet = async (name: string) => {
    const state = (await d.api().get(`/1.0/instances/${name}/state`).expect(200)).body.metadata;
    return (state.network?.eth0?.addresses ?? []).filter((a: { family: string }) => a.family === 'inet').map((a: { address: string }) => a.address);
  };

  before(async () => {
    const image = await ensureAnsibleTargetImage();
    d = await startDaemon();
    await configureLxc(d);
    await finish(await d.api().post('/1.0/images').set('Content-Type', 'application/octet-stream').set('X-LXD-aliases', 'debian/12-python').send(readFileSync(image)));
    await d.api().post('/1.0/networks').send({ name: net, config: { 'ipv4.address': 'auto' } }).expect(200);
    await d.api().post('/1.0/profiles').send({ name: 'lan', devices: { eth0: { type: 'nic', network: net, name: 'eth0' } } }).expect(200);
  });
  after(async () => {
    await removeInstances('an1');
    await d.api().delete(`/1.0/networks/${net}`);
    await d.destroy();
  });

  it('lxd_profile: present with config and devices, unchanged when run again, merged, renamed, then absent', async () => {
    const present = local([
      {
        name: 'web profile',
        'community.general.lxd_profile': {
          name: 'answeb',
          url: url(),
          state: 'present',
          description: 'made by ansible',
          config: { 'limits.memory': '256MiB', 'user.team': 'ops' },
          devices: { eth1: { type: 'nic', network: net, name: 'eth1' } },
        },
      },
    ]);
    await ansibleFiles(d, { 'profile.yml': present });
    let [result] = succeeded(await ansiblePlaybook(d, 'profile.yml'));
    assert.equal(result!.changed, true);
    const made = (await d.api().get('/1.0/profiles/answeb').expect(200)).body.metadata;
    assert.deepEqual(
      { description: made.description, config: made.config, devices: made.devices },
      { description: 'made by ansible', config: { 'limits.memory': '256MiB', 'user.team': 'ops' }, devices: { eth1: { type: 'nic', network: net, name: 'eth1' } } },
    );

    [result] = succeeded(await ansiblePlaybook(d, 'profile.yml'));
    assert.equal(result!.changed, false, JSON.stringify(result));

    // merge_profile PUTs the whole GET answer back with the merged keys beside it.
    const merge = { name: 'answeb', url: url(), state: 'present', merge_profile: true, description: 'merged by ansible', config: { 'user.role': 'web' } };
    await ansibleFiles(d, { 'profile-merge.yml': local([{ name: 'merge', 'community.general.lxd_profile': merge }]) });
    [result] = succeeded(await ansiblePlaybook(d, 'profile-merge.yml'));
    assert.deepEqual(result!.actions, ['apply_profile_configs']);
    const merged = (await d.api().get('/1.0/profiles/answeb').expect(200)).body.metadata;
    assert.deepEqual(
      { description: merged.description, config: merged.config, devices: merged.devices },
      { description: 'merged by ansible', config: { 'limits.memory': '256MiB', 'user.team': 'ops', 'user.role': 'web' }, devices: made.devices },
    );

    await ansibleFiles(d, { 'profile-rename.yml': local([{ name: 'rename', 'community.general.lxd_profile': { name: 'answeb', new_name: 'answeb2', url: url(), state: 'present' } }]) });
    [result] = succeeded(await ansiblePlaybook(d, 'profile-rename.yml'));
    assert.deepEqual(result!.actions, ['rename']);
    await d.api().get('/1.0/profiles/answeb').expect(404);
    assert.deepEqual((await d.api().get('/1.0/profiles/answeb2').expect(200)).body.metadata.config, merged.config);

    await ansibleFiles(d, { 'profile-absent.yml': local([{ name: 'no web profile', 'community.general.lxd_profile': { name: 'answeb2', url: url(), state: 'absent' } }]) });
    [result] = succeeded(await ansiblePlaybook(d, 'profile-absent.yml'));
    assert.equal(result!.changed, true);
    await d.api().get('/1.0/profiles/answeb2').expect(404);
  });

  it('lxd_container: state started from an image alias, waiting for its IPv4 address', async () => {
    const options = { state: 'started', source: { type: 'image', alias: 'debian/12-python' }, profiles: ['default', 'lan'], wait_for_ipv4_addresses: true };
    const [result] = succeeded(await container(options));
    assert.deepEqual(result!.actions, ['create', 'start']);
    assert.equal(result!.addresses.eth0.length, 1);
    assert.deepEqual(result!.addresses.eth0, await inet('an1'));
    assert.equal(await status('an1'), 'Running');
    assert.equal((await lxc('list', '--format', 'csv', '-c', 'ns')).stdout, 'an1,RUNNING\n');
    assert.equal((await exec('an1', ['cat', '/etc/hostname'])).stdout, 'an1\n');

    // Run again: the module reads the instance's status and has nothing to do.
    const [again] = succeeded(await container(options));
    assert.deepEqual({ changed: again!.changed, actions: again!.actions, old_state: again!.old_state }, { changed: false, actions: [], old_state: 'started' });
  });

  it('the lxd connection plugin gathers facts and runs copy, command, fetch and user inside the instance', async () => {
    await ansibleFiles(d, {
      'hosts.ini': '[containers]\nan1 ansible_connection=community.general.lxd\n',
      'inside.yml': stringify([
        {
          hosts: 'containers',
          gather_facts: true,
          tasks: [
            { name: 'copy', 'ansible.builtin.copy': { dest: '/root/from-ansible.txt', content: 'written by ansible\n', mode: '0640' } },
            { name: 'read', 'ansible.builtin.command': { argv: ['cat', '/root/from-ansible.txt'] } },
            { name: 'facts', 'ansible.builtin.copy': { dest: '/root/facts.txt', content: '{{ ansible_distribution }} {{ ansible_distribution_major_version }} {{ ansible_default_ipv4.address }}\n' } },
            { name: 'fetch', 'ansible.builtin.fetch': { src: '/root/from-ansible.txt', dest: 'fetched/', flat: true } },
            { name: 'user', 'ansible.builtin.user': { name: 'alice', shell: '/bin/sh' } },
          ],
        },
      ]),
    });
    const results = succeeded(await ansiblePlaybook(d, 'inside.yml', 'hosts.ini'));
    const task = (name: string) => results.find((r) => r.task === name)!;
    assert.deepEqual({ host: task('copy').host, changed: task('copy').changed }, { host: 'an1', changed: true });
    assert.equal(task('read').stdout, 'written by ansible');
    assert.equal((await exec('an1', ['stat', '-c', '%a %U', '/root/from-ansible.txt'])).stdout, '640 root\n');
    const file = await d.api().get('/1.0/instances/an1/files?path=/root/from-ansible.txt').buffer(true).parse((r, cb) => {
      let text = '';
      r.on('data', (c: Buffer) => (text += c.toString()));
      r.on('end', () => cb(null, text));
    });
    assert.equal(file.body, 'written by ansible\n');
    // The facts were gathered inside the container: its distribution and the address Berth reports.
    assert.equal((await exec('an1', ['cat', '/root/facts.txt'])).stdout, `Debian 12 ${(await inet('an1'))[0]}\n`);
    assert.equal(readFileSync(join(d.dir, 'ansible', 'fetched', 'from-ansible.txt'), 'utf8'), 'written by ansible\n');
    assert.match((await exec('an1', ['getent', 'passwd', 'alice'])).stdout, /^alice:x:\d+:\d+::\/home\/alice:\/bin\/sh\n$/);
  });

  it('lxd_container: a config change on the running instance is applied with a full PUT', async () => {
    const [result] = succeeded(await container({ state: 'started', config: { 'user.role': 'web', 'limits.memory': '384MiB' } }));
    assert.deepEqual({ changed: result!.changed, actions: result!.actions }, { changed: true, actions: ['apply_instance_configs'] });
    const config = (await d.api().get('/1.0/instances/an1').expect(200)).body.metadata.config;
    assert.deepEqual([config['user.role'], config['limits.memory']], ['web', '384MiB']);
    assert.equal((await lxc('config', 'get', 'an1', 'limits.memory')).stdout, '384MiB\n');
    assert.equal(await status('an1'), 'Running');
  });

  it('the lxd inventory plugin lists the instances with their state and address', async (t) => {
    await finish(await d.api().post('/1.0/instances').send({ name: 'an2', source: { type: 'image', alias: 'debian/12-python' } }));
    t.after(() => removeInstances('an2'));
    await ansibleFiles(d, {
      'all.lxd.yml': stringify({ plugin: 'community.general.lxd', url: url() }),
      'running.lxd.yml': stringify({ plugin: 'community.general.lxd', url: url(), state: 'RUNNING' }),
    });
    const all = await ansibleInventory(d, 'all.lxd.yml');
    const [address] = await inet('an1');
    assert.deepEqual(Object.keys(all._meta.hostvars).sort(), ['an1', 'an2']);
    const an1 = all._meta.hostvars.an1;
    assert.deepEqual(
      { state: an1.ansible_lxd_state, host: an1.ansible_host, profiles: an1.ansible_lxd_profile, type: an1.ansible_lxd_type },
      { state: 'running', host: address, profiles: ['default', 'lan'], type: 'container' },
    );
    assert.equal(all._meta.hostvars.an2.ansible_lxd_state, 'stopped');

    const running = await ansibleInventory(d, 'running.lxd.yml');
    assert.deepEqual(Object.keys(running._meta.hostvars), ['an1']);
  });

  it('lxd_container: state restarted runs a new init', async () => {
    const before = (await d.api().get('/1.0/instances/an1/state').expect(200)).body.metadata.pid;
    const [result] = succeeded(await container({ state: 'restarted', wait_for_ipv4_addresses: true }));
    assert.deepEqual(result!.actions, ['restart']);
    const after = (await d.api().get('/1.0/instances/an1/state').expect(200)).body.metadata.pid;
    assert.ok(after > 0 && after !== before, `init ${before} then ${after}`);
    assert.equal(await status('an1'), 'Running');
    assert.deepEqual(result!.addresses.eth0, await inet('an1'));
    // The container's own file system is kept across the restart.
    assert.equal((await exec('an1', ['cat', '/root/from-ansible.txt'])).stdout, 'written by ansible\n');
  });

  it('lxd_container: state stopped, then absent', async () => {
    let [result] = succeeded(await container({ state: 'stopped' }));
    assert.deepEqual(result!.actions, ['stop']);
    assert.equal(await status('an1'), 'Stopped');
    assert.equal((await d.api().get('/1.0/instances/an1/state').expect(200)).body.metadata.pid, 0);
    assert.equal((await lxc('list', '--format', 'csv', '-c', 'ns')).stdout, 'an1,STOPPED\n');

    [result] = succeeded(await container({ state: 'absent' }));
    assert.deepEqual(result!.actions, ['delete']);
    await d.api().get('/1.0/instances/an1').expect(404);
    assert.equal((await lxc('list', '--format', 'csv')).stdout, '');
  });
});
