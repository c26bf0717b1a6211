import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { daemonApi } from '../support/api.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { ensureAnsibleTargetImage } from '../support/ansible.js';
import { ensureDebianImage } from '../support/debian-image.js';
import { configureLxc, lxcRunner } from '../support/lxc.js';
import { pylxd } from '../support/pylxd.js';

/** pylxd (Debian's python3-pylxd 2.2.10), unchanged, driving a real berthd and real containers. */
describe('pylxd against berthd', () => {
  let d: Daemon;
  const net = `bpy${process.pid % 100000}`;
  const lxc = lxcRunner(() => d);
  const { finish, removeInstances, exec } = daemonApi(() => d);

  before(async () => {
    const image = await ensureDebianImage();
    d = await startDaemon();
    await configureLxc(d);
    await finish(await d.api().post('/1.0/images').set('Content-Type', 'application/octet-stream').set('X-LXD-aliases', 'debian/12').send(readFileSync(image)));
    await d.api().post('/1.0/networks').send({ name: net, config: { 'ipv4.address': 'auto' } }).expect(200);
    await d.api().post('/1.0/profiles').send({ name: 'lan', devices: { eth0: { type: 'nic', network: net, name: 'eth0' } } }).expect(200);
  });
  after(async () => {
    await removeInstances('py1');
    await d.api().delete(`/1.0/networks/${net}`);
    await d.destroy();
  });

  it('profiles: create, get, config save, delete', async () => {
    const created = await pylxd(
      d,
      `
      profile = client.profiles.create('pyweb', config={'limits.memory': '256MiB'}, devices={'eth1': {'type': 'nic', 'network': '${net}', 'name': 'eth1'}})
      got = client.profiles.get('pyweb')
      out({'name': got.name, 'config': got.config, 'devices': got.devices})
      `,
    );
    assert.deepEqual(created, { name: 'pyweb', config: { 'limits.memory': '256MiB' }, devices: { eth1: { type: 'nic', network: net, name: 'eth1' } } });

    await pylxd(
      d,
      `
      profile = client.profiles.get('pyweb')
      profile.config['user.team'] = 'ops'
      profile.description = 'saved by pylxd'
      profile.save()
      out(True)
      `,
    );
    const saved = (await d.api().get('/1.0/profiles/pyweb').expect(200)).body.metadata;
    assert.deepEqual(saved.config, { 'limits.memory': '256MiB', 'user.team': 'ops' });
    assert.equal(saved.description, 'saved by pylxd');
    assert.deepEqual(saved.devices, { eth1: { type: 'nic', network: net, name: 'eth1' } });

    assert.deepEqual(await pylxd(d, `client.profiles.get('pyweb').delete()\nout(client.profiles.exists('pyweb'))`), false);
    await d.api().get('/1.0/profiles/pyweb').expect(404);
  });

  it('containers: create from an alias with wait=True, then Berth lists it stopped', async () => {
    const created = await pylxd(
      d,
      `
      c = client.containers.create({'name': 'py1', 'source': {'type': 'image', 'alias': 'debian/12'}, 'profiles': ['default', 'lan']}, wait=True)
      out({'name': c.name, 'status': c.status, 'profiles': c.profiles})
      `,
    );
    assert.deepEqual(created, { name: 'py1', status: 'Stopped', profiles: ['default', 'lan'] });
    assert.equal((await lxc('list', '--format', 'csv', '-c', 'ns')).stdout, 'py1,STOPPED\n');
  });

  it('containers: start with wait=True gives status == "Running"', async () => {
    const started = await pylxd(
      d,
      `
      c = client.containers.get('py1')
      c.start(wait=True)
      c.sync()
      out({'status': c.status, 'code': c.status_code})
      `,
    );
    assert.deepEqual(started, { status: 'Running', code: 103 });
    assert.equal((await lxc('list', '--format', 'csv', '-c', 'ns')).stdout, 'py1,RUNNING\n');
  });

  it('containers: execute gives the exit code and both outputs', async () => {
    const result = await pylxd(
      d,
      `
      r = client.containers.get('py1').execute(['sh', '-c', 'echo hi; echo oops >&2; exit 3'])
      out({'exit_code': r.exit_code, 'stdout': r.stdout, 'stderr': r.stderr})
      `,
    );
    assert.deepEqual(result, { exit_code: 3, stdout: 'hi\n', stderr: 'oops\n' });

    const fed = await pylxd(
      d,
      `
      r = client.containers.get('py1').execute(['sh', '-c', 'cat; echo "$GREETING"'], environment={'GREETING': 'hello there'}, stdin_payload='from stdin\\n')
      out({'exit_code': r.exit_code, 'stdout': r.stdout})
      `,
    );
    assert.deepEqual(fed, { exit_code: 0, stdout: 'from stdin\nhello there\n' });
  });

  it('containers: files put and get', async () => {
    await pylxd(d, `client.containers.get('py1').files.put('/root/from-pylxd.txt', b'written by pylxd\\n', mode='0640')\nout(True)`);
    const inside = await exec('py1', ['stat', '-c', '%a %U %s', '/root/from-pylxd.txt']);
    assert.equal(inside.stdout, '640 root 17\n');
    assert.equal((await exec('py1', ['cat', '/root/from-pylxd.txt'])).stdout, 'written by pylxd\n');

    assert.equal((await exec('py1', ['sh', '-c', 'printf "from the container" > /root/for-pylxd.txt'])).code, 0);
    assert.equal(await pylxd(d, `out(client.containers.get('py1').files.get('/root/for-pylxd.txt').decode())`), 'from the container');

    const deleted = await pylxd(
      d,
      `
      files = client.containers.get('py1').files
      available = files.delete_available()
      files.delete('/root/for-pylxd.txt')
      try:
          files.get('/root/for-pylxd.txt')
          out({'available': available, 'gone': False})
      except pylxd.exceptions.NotFound:
          out({'available': available, 'gone': True})
      `,
    );
    assert.deepEqual(deleted, { available: true, gone: true });
    assert.equal((await exec('py1', ['test', '-e', '/root/for-pylxd.txt'])).code, 1);
  });

  it('containers: state() has the memory use and the DHCP address Berth reports', async () => {
    const state = await pylxd(
      d,
      `
      import time
      c = client.containers.get('py1')
      for _ in range(300):
          s = c.state()
          inet = [a['address'] for a in (s.network or {}).get('eth0', {}).get('addresses', []) if a['family'] == 'inet']
          if inet:
              break
          time.sleep(0.2)
      out({'status': s.status, 'memory': s.memory['usage'], 'pid': s.pid, 'inet': inet})
      `,
    );
    const api = (await d.api().get('/1.0/instances/py1/state').expect(200)).body.metadata;
    assert.equal(state.pid, api.pid);
    assert.ok(state.memory > 0, `memory usage ${state.memory}`);
    assert.equal(state.inet.length, 1);
    assert.deepEqual(
      state.inet,
      api.network.eth0.addresses.filter((a: { family: string }) => a.family === 'inet').map((a: { address: string }) => a.address),
    );
    assert.match((await exec('py1', ['ip', '-4', '-o', 'addr', 'show', 'eth0'])).stdout, new RegExp(` ${state.inet[0].replace(/\./g, '\\.')}/`));
  });

  it('containers: a config change saved with wait=True reaches Berth', async () => {
    await pylxd(
      d,
      `
      c = client.containers.get('py1')
      c.config['user.owner'] = 'pylxd'
      c.config['limits.memory'] = '384MiB'
      c.save(wait=True)
      out(True)
      `,
    );
    const config = (await d.api().get('/1.0/instances/py1').expect(200)).body.metadata.config;
    assert.equal(config['user.owner'], 'pylxd');
    assert.equal(config['limits.memory'], '384MiB');
    assert.equal((await lxc('config', 'get', 'py1', 'limits.memory')).stdout, '384MiB\n');
  });

  it('containers: stop(wait=True), seen on the events websocket, then delete(wait=True)', async () => {
    const stopped = await pylxd(
      d,
      `
      import threading, time
      events = []
      ws = client.events(event_types=[pylxd.client.EventType.Lifecycle])
      ws.received_message = lambda message: events.append(json.loads(message.data.decode()))
      ws.connect()
      threading.Thread(target=ws.run, daemon=True).start()
      c = client.containers.get('py1')
      c.stop(wait=True)
      c.sync()
      for _ in range(100):
          if any(e['metadata']['action'] == 'instance-stopped' for e in events):
              break
          time.sleep(0.1)
      ws.close()
      out({'status': c.status, 'events': [[e['type'], e['metadata']['action'], e['metadata']['source']] for e in events]})
      `,
    );
    assert.equal(stopped.status, 'Stopped');
    assert.ok(
      stopped.events.some(([type, action, source]: string[]) => type === 'lifecycle' && action === 'instance-stopped' && source === '/1.0/instances/py1'),
      JSON.stringify(stopped.events),
    );
    assert.equal((await lxc('list', '--format', 'csv', '-c', 'ns')).stdout, 'py1,STOPPED\n');
    assert.equal((await d.api().get('/1.0/instances/py1/state').expect(200)).body.metadata.pid, 0);

    assert.equal(await pylxd(d, `client.containers.get('py1').delete(wait=True)\nout(client.containers.exists('py1'))`), false);
    await d.api().get('/1.0/instances/py1').expect(404);
    assert.equal((await lxc('list', '--format', 'csv')).stdout, '');
  });

  it('images: create from a unified tarball, add an alias, delete', async () => {
    // Another image than the suite's debian/12 (the same one would already exist).
    const tarball = await ensureAnsibleTargetImage();
    const fingerprint = createHash('sha256').update(readFileSync(tarball)).digest('hex');
    const created = await pylxd(
      d,
      `
      with open(${JSON.stringify(tarball)}, 'rb') as f:
          image = client.images.create(f.read(), wait=True)
      image.add_alias('pylxd/uploaded', 'uploaded by pylxd')
      got = client.images.get_by_alias('pylxd/uploaded')
      out({'fingerprint': image.fingerprint, 'by_alias': got.fingerprint, 'properties': got.properties})
      `,
    );
    assert.deepEqual([created.fingerprint, created.by_alias], [fingerprint, fingerprint]);
    assert.equal(created.properties.variant, 'ansible');
    assert.equal((await d.api().get('/1.0/images/aliases/pylxd/uploaded').expect(200)).body.metadata.target, fingerprint);

    await pylxd(d, `client.images.get('${fingerprint}').delete(wait=True)\nout(True)`);
    await d.api().get(`/1.0/images/${fingerprint}`).expect(404);
    await d.api().get('/1.0/images/aliases/pylxd/uploaded').expect(404);
  });

  it('networks: all and get', async () => {
    const found = await pylxd(
      d,
      `
      n = client.networks.get('${net}')
      out({'all': [x.name for x in client.networks.all()], 'type': n.type, 'managed': n.managed, 'config': n.config})
      `,
    );
    const api = (await d.api().get(`/1.0/networks/${net}`).expect(200)).body.metadata;
    assert.ok(found.all.includes(net), JSON.stringify(found.all));
    assert.deepEqual({ type: found.type, managed: found.managed, config: found.config }, { type: 'bridge', managed: true, config: api.config });
  });

  it('storage pools: all and get', async () => {
    const found = await pylxd(
      d,
      `
      pools = client.storage_pools.all()
      out([{'name': p.name, 'driver': client.storage_pools.get(p.name).driver} for p in pools])
      `,
    );
    const api = (await d.api().get('/1.0/storage-pools?recursion=1').expect(200)).body.metadata as Array<{ name: string; driver: string }>;
    assert.ok(api.length > 0);
    assert.deepEqual(found, api.map((p) => ({ name: p.name, driver: p.driver })));
  });
});
