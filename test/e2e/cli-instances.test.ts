// `berth list|init|delete|rename`, `berth config ...` and `berth profile assign|add|remove` (the
// real CLI) against a real berthd. Effects are read back through the REST API and the daemon's
// database; refusals must leave both as they were.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { ownConfig } from '../support/api.js';
import { queryEmbedded } from '../support/db.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { runBerth } from '../support/cli.js';
import { writeTinyImage } from '../support/tiny-image.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

interface InstanceJson {
  name: string;
  description: string;
  status: string;
  ephemeral: boolean;
  profiles: string[];
  config: Record<string, string>;
  devices: Record<string, Record<string, string>>;
  expanded_config: Record<string, string>;
  expanded_devices: Record<string, Record<string, string>>;
  state?: { status: string };
}

/** Asserts a failed run: exit 1, nothing on stdout, and exactly one "Error: ..." line on stderr. */
function assertOneLineError(result: Run, message: RegExp): void {
  assert.equal(result.code, 1, JSON.stringify(result));
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /^Error: [^\n]+\n$/, JSON.stringify(result.stderr));
  assert.match(result.stderr.trimEnd(), message);
}

describe('berth instances', () => {
  let d: Daemon;

  const berth = (args: string[], input = ''): Promise<Run> => runBerth(args, { env: d.env, input });

  const ok = async (args: string[], input?: string): Promise<string> => {
    const result = await berth(args, input);
    assert.equal(result.code, 0, `berth ${args.join(' ')}: ${JSON.stringify(result)}`);
    assert.equal(result.stderr, '');
    return result.stdout;
  };

  const apiInstance = async (name: string): Promise<InstanceJson> =>
    (await d.api().get(`/1.0/instances/${name}`).expect(200)).body.metadata as InstanceJson;
  const names = async (...filters: string[]) =>
    (await ok(['list', ...filters, '--format', 'csv'])).split('\n').filter(Boolean).map((line) => line.split(',')[0]);
  /** Everything an instance command may change: the API's view, rows, and volumes. */
  const snapshot = async () => {
    const containers = join(d.dir, 'storage', 'default', 'containers');
    return {
      instances: (await d.api().get('/1.0/instances?recursion=1').expect(200)).body.metadata,
      profiles: (await d.api().get('/1.0/profiles?recursion=1').expect(200)).body.metadata,
      rows: await queryEmbedded(d.dir, 'SELECT name FROM instances ORDER BY name'),
      volumes: existsSync(containers) ? (await readdir(containers)).sort() : [],
    };
  };

  before(async () => {
    d = await startDaemon();
  });
  after(async () => {
    await d.destroy();
  });

  it('creates empty instances with profiles, config and the ephemeral flag', async () => {
    assert.equal(await ok(['init', 'c1', '--empty', '-c', 'user.team=ops', '-c', 'limits.processes=200']), 'Instance c1 created\n');
    const c1 = await apiInstance('c1');
    assert.equal(c1.status, 'Stopped');
    assert.deepEqual(c1.profiles, ['default']);
    assert.deepEqual(ownConfig(c1.config), { 'user.team': 'ops', 'limits.processes': '200' });
    assert.equal(c1.ephemeral, false);

    await ok(['profile', 'create', 'web']);
    await ok(['profile', 'edit', 'web'], 'config:\n  limits.cpu: 2\n  user.team: web\ndevices:\n  shared:\n    type: disk\n    path: /shared\n    source: /tmp\n');
    assert.equal(await ok(['init', '--empty', 'c2', '-p', 'default', '-p', 'web', '--ephemeral', '-c', 'user.team=data']), 'Instance c2 created\n');
    const c2 = await apiInstance('c2');
    assert.deepEqual(c2.profiles, ['default', 'web']);
    assert.equal(c2.ephemeral, true);
    assert.equal(c2.expanded_config['limits.cpu'], '2');
    assert.equal(c2.expanded_config['user.team'], 'data');

    assert.equal(await ok(['init', 'bare', '--empty', '--no-profiles']), 'Instance bare created\n');
    assert.deepEqual((await apiInstance('bare')).profiles, []);
    assert.equal(await ok(['delete', 'bare']), '');
    await d.api().get('/1.0/instances/bare').expect(404);
  });

  it('lists instances with lxc\'s columns and the time to Ready', async () => {
    const table = (await ok(['list'])).split('\n');
    assert.match(table[1] ?? '', /^\| NAME \| +STATE +\| IPV4 \| IPV6 \| +TYPE +\| SNAPSHOTS \| READY \|$/);
    assert.ok(table.some((line) => /^\| c1 +\| STOPPED \| +\| +\| CONTAINER +\| 0 +\| +\|$/.test(line)), table.join('\n'));
    assert.ok(table.some((line) => /^\| c2 +\| STOPPED \| +\| +\| CONTAINER \(EPHEMERAL\) \| 0 +\| +\|$/.test(line)), table.join('\n'));
    assert.equal(await ok(['list', '--format', 'csv']), 'c1,STOPPED,,,CONTAINER,0,\nc2,STOPPED,,,CONTAINER (EPHEMERAL),0,\n');
    const json = JSON.parse(await ok(['list', '--format', 'json'])) as InstanceJson[];
    assert.deepEqual(json.map((i) => [i.name, i.state?.status]), [['c1', 'Stopped'], ['c2', 'Stopped']]);
    assert.deepEqual(parseYaml(await ok(['list', '--format', 'yaml'])), json);
  });

  it('filters the list on the server: names, config keys and fields', async () => {
    await ok(['init', 'db1', '--empty', '-c', 'user.team=ops']);
    assert.deepEqual(await names('c'), ['c1', 'c2']);
    assert.deepEqual(await names('c1'), ['c1']);
    assert.deepEqual(await names('c[0-9]'), ['c1', 'c2']);
    assert.deepEqual(await names('user.team=ops'), ['c1', 'db1']);
    assert.deepEqual(await names('user.team=ops', 'c'), ['c1']);
    assert.deepEqual(await names('ephemeral=true'), ['c2']);
    assert.deepEqual(await names('expanded_config.limits.cpu=2'), ['c2']);
    assert.deepEqual(await names('user.team=nobody'), []);
    assert.equal(await ok(['delete', 'db1']), '');
  });

  it('sets, unsets and shows config, own and expanded', async () => {
    assert.equal(await ok(['config', 'set', 'c1', 'limits.memory=512MiB', 'user.note=two words']), '');
    await ok(['config', 'set', 'c1', 'user.motd', 'hello = world']);
    assert.deepEqual(ownConfig((await apiInstance('c1')).config), {
      'limits.memory': '512MiB',
      'limits.processes': '200',
      'user.motd': 'hello = world',
      'user.note': 'two words',
      'user.team': 'ops',
    });
    await ok(['config', 'unset', 'c1', 'user.note']);
    await ok(['config', 'set', 'c1', 'user.motd=']);
    assert.deepEqual(Object.keys(ownConfig((await apiInstance('c1')).config)).sort(), ['limits.memory', 'limits.processes', 'user.team']);

    const shown = parseYaml(await ok(['config', 'show', 'c1'])) as InstanceJson & { devices: object };
    assert.deepEqual(ownConfig(shown.config), { 'limits.memory': '512MiB', 'limits.processes': '200', 'user.team': 'ops' });
    assert.deepEqual(shown.devices, {});
    assert.deepEqual(shown.profiles, ['default']);

    const expanded = parseYaml(await ok(['config', 'show', 'c2', '--expanded'])) as InstanceJson;
    const api = await apiInstance('c2');
    assert.deepEqual(expanded.config, api.expanded_config);
    assert.deepEqual(expanded.devices, api.expanded_devices);
    assert.deepEqual(expanded.devices.shared, { path: '/shared', source: '/tmp', type: 'disk' });
    assert.equal((parseYaml(await ok(['config', 'show', 'c2'])) as InstanceJson).devices.shared, undefined);
    assert.equal(JSON.parse(await ok(['config', 'show', 'c2', '--expanded', '--format', 'json'])).config['limits.cpu'], '2');
  });

  it('edits the configuration from standard input, and takes back what show prints', async () => {
    const edited = ['description: Edited', 'config:', '  user.team: ops', '  limits.cpu: 1', 'devices: {}', 'profiles: [default, web]', 'ephemeral: false', ''].join('\n');
    assert.equal(await ok(['config', 'edit', 'c1'], edited), '');
    const c1 = await apiInstance('c1');
    assert.deepEqual(ownConfig(c1.config), { 'limits.cpu': '1', 'user.team': 'ops' });
    assert.deepEqual(c1.profiles, ['default', 'web']);
    assert.equal(c1.expanded_config['limits.cpu'], '1');

    const shown = await ok(['config', 'show', 'c1']);
    await ok(['config', 'edit', 'c1'], shown);
    const writable = ({ description, config, devices, profiles, ephemeral }: InstanceJson) => ({ description, config, devices, profiles, ephemeral });
    assert.deepEqual(writable(await apiInstance('c1')), writable(c1));
    assert.equal(c1.description, 'Edited');
  });

  it('adds, sets, shows and removes devices', async () => {
    assert.equal(await ok(['config', 'device', 'add', 'c1', 'data', 'disk', 'path=/srv', 'source=/tmp']), 'Device data added to c1\n');
    assert.deepEqual((await apiInstance('c1')).devices, { data: { type: 'disk', path: '/srv', source: '/tmp' } });
    assert.deepEqual(parseYaml(await ok(['config', 'device', 'show', 'c1'])), { data: { path: '/srv', source: '/tmp', type: 'disk' } });

    await ok(['config', 'device', 'set', 'c1', 'data', 'readonly=true', 'path=/data']);
    assert.deepEqual((await apiInstance('c1')).devices.data, { type: 'disk', path: '/data', source: '/tmp', readonly: 'true' });

    // A device of a profile is overridden on the instance, not changed in the profile.
    assert.deepEqual((await apiInstance('c1')).profiles, ['default', 'web']);
    await ok(['config', 'device', 'set', 'c1', 'shared', 'readonly=true']);
    assert.deepEqual((await apiInstance('c1')).devices.shared, { type: 'disk', path: '/shared', source: '/tmp', readonly: 'true' });
    const profile = (await d.api().get('/1.0/profiles/web').expect(200)).body.metadata;
    assert.deepEqual(profile.devices.shared, { type: 'disk', path: '/shared', source: '/tmp' });

    assert.equal(await ok(['config', 'device', 'remove', 'c1', 'data', 'shared']), 'Device data removed from c1\nDevice shared removed from c1\n');
    assert.deepEqual((await apiInstance('c1')).devices, {});
  });

  it('adds, removes and assigns profiles', async () => {
    await ok(['profile', 'create', 'extra']);
    assert.equal(await ok(['profile', 'add', 'c1', 'extra']), 'Profile extra added to c1\n');
    assert.deepEqual((await apiInstance('c1')).profiles, ['default', 'web', 'extra']);
    assert.equal(await ok(['profile', 'remove', 'c1', 'web']), 'Profile web removed from c1\n');
    assert.deepEqual((await apiInstance('c1')).profiles, ['default', 'extra']);
    assert.equal(await ok(['profile', 'assign', 'c1', 'web,default']), 'Profiles web,default applied to c1\n');
    assert.deepEqual((await apiInstance('c1')).profiles, ['web', 'default']);
    const usedBy = (await d.api().get('/1.0/profiles/extra').expect(200)).body.metadata.used_by;
    assert.deepEqual(usedBy, []);
    assert.equal(await ok(['profile', 'assign', 'c1', '']), 'All profiles removed from c1\n');
    assert.deepEqual((await apiInstance('c1')).profiles, []);
    await ok(['profile', 'assign', 'c1', 'default']);
    await ok(['profile', 'delete', 'extra']);
  });

  it('renames and deletes instances, volumes included', async () => {
    assert.equal(await ok(['rename', 'c2', 'c3']), '');
    await d.api().get('/1.0/instances/c2').expect(404);
    assert.deepEqual((await apiInstance('c3')).profiles, ['default', 'web']);
    assert.deepEqual(await names(), ['c1', 'c3']);
    assert.equal(await ok(['delete', 'c3']), '');
    await d.api().get('/1.0/instances/c3').expect(404);
    assert.deepEqual((await snapshot()).volumes, ['c1']);
  });

  it('creates an instance from an image named by alias', async () => {
    const work = await mkdtemp(join(tmpdir(), 'berth-cli-instances-'));
    try {
      const fingerprint = await writeTinyImage(join(work, 'tiny.tar.gz'));
      await ok(['image', 'import', join(work, 'tiny.tar.gz'), '--alias', 'tiny']);
      assert.equal(await ok(['init', 'tiny', 'from-image']), 'Instance from-image created\n');
      const [row] = await queryEmbedded(d.dir, "SELECT image_fingerprint FROM instances WHERE name = 'from-image'");
      assert.equal(row?.image_fingerprint, fingerprint);
      assert.ok(existsSync(join(d.dir, 'storage', 'default', 'containers', 'from-image', 'rootfs', 'etc', 'os-release')));
      await ok(['delete', 'from-image']);
      await ok(['image', 'delete', 'tiny']);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  describe('errors: one line, nothing changed', () => {
    it('refuses bad creations', async () => {
      const before = await snapshot();
      assertOneLineError(await berth(['init', 'c1', '--empty']), /^Error: Instance "c1" already exists$/);
      assertOneLineError(await berth(['init', 'web_1', '--empty']), /^Error: Invalid name: may only contain letters, digits and "-"$/);
      assertOneLineError(await berth(['init', 'x1', '--empty', '-p', 'nope']), /^Error: Invalid profiles\[0\]: profile "nope" does not exist$/);
      assertOneLineError(await berth(['init', 'x1', '--empty', '-c', 'boot.autostrat=true']), /^Error: Invalid config\["boot\.autostrat"\]: unknown configuration key$/);
      assertOneLineError(await berth(['init', 'x1', '--empty', '-c', 'novalue']), /^Error: option '-c, --config <key=value>' argument 'novalue' is invalid\. expected <key>=<value>$/);
      assertOneLineError(await berth(['init', 'x1']), /^Error: expected berth init <image> <name>, or berth init <name> --empty$/);
      assertOneLineError(await berth(['init', 'nope', 'x1']), /^Error: Image not found: "nope"$/);
      assertOneLineError(await berth(['init', 'img', 'x1', '--empty']), /^Error: --empty creates an instance without an image/);
      assert.deepEqual(await snapshot(), before);
    });

    it('refuses bad changes', async () => {
      await ok(['init', 'keep', '--empty', '-p', 'default', '-p', 'web', '-c', 'user.team=ops']);
      await ok(['config', 'device', 'add', 'keep', 'data', 'disk', 'path=/srv', 'source=/tmp']);
      const before = await snapshot();
      assertOneLineError(await berth(['config', 'set', 'keep', 'limits.cpu=2', 'bogus.key=1']), /^Error: Invalid config\["bogus\.key"\]: unknown configuration key$/);
      assertOneLineError(await berth(['config', 'set', 'keep', 'limits.cpu=0']), /^Error: Invalid config\["limits\.cpu"\]: must be at least 1 CPU$/);
      assertOneLineError(await berth(['config', 'set', 'keep', 'a=1', 'b']), /^Error: invalid argument "b": expected <key>=<value>$/);
      assertOneLineError(await berth(['config', 'unset', 'keep', 'user.absent']), /^Error: key "user\.absent" is not set on instance "keep"$/);
      assertOneLineError(await berth(['config', 'set', 'nope', 'user.a=1']), /^Error: Instance not found: "nope"$/);
      assertOneLineError(await berth(['config', 'edit', 'keep'], 'name: other\n'), /^Error: invalid instance: the name cannot be changed here/);
      assertOneLineError(await berth(['config', 'edit', 'keep'], 'config:\n  volatile.x: "1"\n'), /^Error: Invalid config\["volatile\.x"\]: volatile keys are owned by the server$/);
      assertOneLineError(await berth(['config', 'edit', 'keep'], 'config: [1\n'), /^Error: invalid YAML: /);
      assertOneLineError(await berth(['config', 'device', 'add', 'keep', 'data', 'disk', 'path=/x', 'source=/tmp']), /^Error: device "data" already exists on instance "keep"$/);
      assertOneLineError(
        await berth(['config', 'device', 'add', 'keep', 'rel', 'disk', 'path=/rel', 'source=srv/data']),
        /^Error: Invalid devices\["rel"\]\["source"\]: must be an absolute host path, not "srv\/data"$/,
      );
      assertOneLineError(await berth(['config', 'device', 'add', 'keep', 'x', 'disk', 'path']), /^Error: invalid device option "path": expected <key>=<value>$/);
      assertOneLineError(await berth(['config', 'device', 'remove', 'keep', 'absent']), /^Error: device "absent" does not exist on instance "keep"$/);
      assertOneLineError(await berth(['config', 'device', 'remove', 'keep', 'data', 'shared']), /^Error: device "shared" comes from a profile of "keep"/);
      assertOneLineError(await berth(['profile', 'add', 'keep', 'default']), /^Error: profile "default" is already applied to "keep"$/);
      assertOneLineError(await berth(['profile', 'add', 'keep', 'nope']), /^Error: Invalid profiles\[2\]: profile "nope" does not exist$/);
      assertOneLineError(await berth(['profile', 'remove', 'keep', 'extra']), /^Error: profile "extra" is not applied to "keep"$/);
      assertOneLineError(await berth(['profile', 'assign', 'keep', 'default,,web']), /^Error: invalid profile list "default,,web": empty profile name$/);
      assertOneLineError(await berth(['rename', 'keep', 'c1']), /^Error: Instance "c1" already exists$/);
      assertOneLineError(await berth(['rename', 'keep', 'bad name']), /^Error: Invalid name: must not contain spaces$/);
      assertOneLineError(await berth(['delete', 'nope']), /^Error: Instance not found: "nope"$/);
      assertOneLineError(await berth(['list', 'a b=1']), /^Error: invalid filter "a b=1": expected <key>=<value>$/);
      assertOneLineError(await berth(['list', '--format', 'xml']), /^Error: option '-f, --format <format>' argument 'xml' is invalid\./);
      assert.deepEqual(await snapshot(), before);
      await ok(['delete', 'keep']);
    });
  });
});
