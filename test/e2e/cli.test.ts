// The real `berth` binary against a real berthd on a temporary BERTH_DIR. Effects are read back
// through the CLI's JSON output and, where it matters, through the REST API itself.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { BERTH, startDaemon, type Daemon } from '../support/daemon.js';
import { runBerth } from '../support/cli.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

interface ProfileJson {
  name: string;
  description: string;
  config: Record<string, string>;
  devices: Record<string, Record<string, string>>;
  used_by: string[];
}

interface OperationJson {
  id: string;
  status: string;
  status_code: number;
  err: string;
  metadata: Record<string, unknown> | null;
}

/** Asserts a failed run: exit 1, nothing on stdout, and exactly one "Error: ..." line on stderr. */
function assertOneLineError(result: Run, message: RegExp): void {
  assert.equal(result.code, 1, JSON.stringify(result));
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /^Error: [^\n]+\n$/, JSON.stringify(result.stderr));
  assert.match(result.stderr.trimEnd(), message);
}

describe('berth CLI', () => {
  let d: Daemon;

  /** Run `berth` with the daemon's BERTH_DIR; `input`, when given, is piped to its stdin. */
  const berth = (args: string[], input = '', env: NodeJS.ProcessEnv = d.env): Promise<Run> => runBerth(args, { env, input });

  /** Run `berth` and insist it succeeded. */
  const ok = async (args: string[], input?: string): Promise<string> => {
    const result = await berth(args, input);
    assert.equal(result.code, 0, `berth ${args.join(' ')}: ${JSON.stringify(result)}`);
    assert.equal(result.stderr, '');
    return result.stdout;
  };

  const showJson = async (name: string): Promise<ProfileJson> =>
    JSON.parse(await ok(['profile', 'show', name, '--format', 'json'])) as ProfileJson;
  const listJson = async (): Promise<ProfileJson[]> =>
    JSON.parse(await ok(['profile', 'list', '--format', 'json'])) as ProfileJson[];
  const names = async () => (await listJson()).map((p) => p.name);
  const startOperation = async (body: Record<string, unknown>): Promise<string> => {
    const res = await d.api().post('/internal/testing/operations').send(body).expect(202);
    return res.body.metadata.id as string;
  };

  before(async () => {
    d = await startDaemon();
  });
  after(async () => {
    await d.destroy();
  });

  describe('info', () => {
    it('summarises the server this BERTH_DIR belongs to', async () => {
      const out = await ok(['info']);
      assert.match(out, new RegExp(`^Server: +berth \\S+ \\(pid ${d.pid}\\)$`, 'm'));
      assert.match(out, /^API: +1\.0 \(stable\)$/m);
      assert.match(out, /^Database: +postgres \S+ \(embedded\)$/m);
    });

    it('prints the server metadata as JSON and as the same YAML', async () => {
      const json = JSON.parse(await ok(['info', '--format', 'json']));
      assert.equal(json.api_version, '1.0');
      assert.equal(json.environment.server, 'berth');
      assert.equal(json.environment.server_pid, d.pid);
      assert.deepEqual(parseYaml(await ok(['info', '--format', 'yaml'])), json);
    });
  });

  describe('profiles', () => {
    it('creates, sets, unsets, edits, copies, renames and deletes a profile', async () => {
      assert.equal(await ok(['profile', 'create', 'web', '--description', 'Web servers']), 'Profile web created\n');
      assert.deepEqual(await showJson('web'), {
        name: 'web',
        description: 'Web servers',
        config: {},
        devices: {},
        used_by: [],
      });

      assert.equal(await ok(['profile', 'set', 'web', 'limits.memory=512MiB', 'user.note=two words']), '');
      await ok(['profile', 'set', 'web', 'user.motd', 'hello = world']);
      assert.deepEqual((await showJson('web')).config, {
        'limits.memory': '512MiB',
        'user.motd': 'hello = world',
        'user.note': 'two words',
      });

      await ok(['profile', 'unset', 'web', 'user.note']);
      await ok(['profile', 'set', 'web', 'user.motd=']);
      assert.deepEqual((await showJson('web')).config, { 'limits.memory': '512MiB' });

      const edited = [
        'name: web',
        'description: Edited from stdin',
        'config:',
        '  limits.cpu: 1',
        '  user.owner: ops',
        'devices: {}',
        'used_by: []',
        '',
      ].join('\n');
      assert.equal(await ok(['profile', 'edit', 'web'], edited), '');
      const afterEdit = await showJson('web');
      assert.equal(afterEdit.description, 'Edited from stdin');
      assert.deepEqual(afterEdit.config, { 'limits.cpu': '1', 'user.owner': 'ops' });
      const fromApi = await d.api().get('/1.0/profiles/web').expect(200);
      assert.deepEqual(fromApi.body.metadata.config, { 'limits.cpu': '1', 'user.owner': 'ops' });

      await ok(['profile', 'copy', 'web', 'web-copy']);
      const copy = await showJson('web-copy');
      assert.deepEqual(
        { description: copy.description, config: copy.config, devices: copy.devices },
        { description: afterEdit.description, config: afterEdit.config, devices: afterEdit.devices },
      );

      assert.equal(await ok(['profile', 'rename', 'web-copy', 'web-renamed']), 'Profile web-copy renamed to web-renamed\n');
      assert.deepEqual((await showJson('web-renamed')).config, afterEdit.config);
      assertOneLineError(await berth(['profile', 'show', 'web-copy']), /^Error: Profile not found: "web-copy"$/);

      assert.equal(await ok(['profile', 'delete', 'web-renamed', 'web']), 'Profile web-renamed deleted\nProfile web deleted\n');
      assert.ok(!(await names()).some((name) => name.startsWith('web')));
      await d.api().get('/1.0/profiles/web').expect(404);
    });

    it('shows a profile as YAML by default, and as JSON, table and CSV on request', async () => {
      await ok(['profile', 'create', 'fmt', '-d', 'Formats, "quoted"']);
      await ok(['profile', 'set', 'fmt', 'limits.memory=1GiB']);

      const yamlText = await ok(['profile', 'show', 'fmt']);
      assert.match(yamlText, /^name: fmt\ndescription: Formats, "quoted"\nconfig:\n  limits\.memory: 1GiB\n/);
      assert.deepEqual(parseYaml(yamlText), await showJson('fmt'));

      const table = await ok(['profile', 'show', 'fmt', '--format', 'table']);
      assert.match(table, /^\| config\.limits\.memory +\| 1GiB +\|$/m);
      assert.equal(
        await ok(['profile', 'show', 'fmt', '--format', 'csv']),
        'name,fmt\ndescription,"Formats, ""quoted"""\nconfig.limits.memory,1GiB\ndevices,\nused_by,\n',
      );
      await ok(['profile', 'delete', 'fmt']);
    });

    it('lists profiles as a table by default, and as CSV, JSON and YAML', async () => {
      await ok(['profile', 'create', 'listed', '-d', 'In the list']);
      const table = await ok(['profile', 'list']);
      assert.deepEqual(table.split('\n').slice(0, 3), [
        '+---------+-----------------------+---------+',
        '|  NAME   |      DESCRIPTION      | USED BY |',
        '+---------+-----------------------+---------+',
      ]);
      assert.match(table, /^\| listed +\| In the list +\| 0 +\|$/m);
      const json = await listJson();
      const csv = (await ok(['profile', 'list', '--format', 'csv'])).split('\n');
      assert.equal(csv.length, json.length + 1);
      assert.equal(csv.at(-1), '');
      assert.ok(csv.includes('default,Default Berth profile,0'), csv.join('\n'));
      assert.ok(csv.includes('listed,In the list,0'), csv.join('\n'));
      assert.deepEqual(
        json.map((p) => p.name),
        [...json.map((p) => p.name)].sort(),
      );
      assert.ok(json.some((p) => p.name === 'listed' && p.description === 'In the list'));
      assert.deepEqual(parseYaml(await ok(['profile', 'list', '--format', 'yaml'])), json);
      await ok(['profile', 'delete', 'listed']);
    });
  });

  describe('errors', () => {
    before(async () => {
      await ok(['profile', 'create', 'keep', '-d', 'Must not change']);
      await ok(['profile', 'set', 'keep', 'limits.cpu=1']);
    });
    after(async () => {
      await ok(['profile', 'delete', 'keep']);
    });

    it('refuses an unknown config key in one line and changes nothing', async () => {
      const before = await showJson('keep');
      assertOneLineError(
        await berth(['profile', 'set', 'keep', 'limits.cpu=2', 'bogus.key=1']),
        /^Error: Invalid config\["bogus\.key"\]: unknown configuration key$/,
      );
      assert.deepEqual(await showJson('keep'), before);
    });

    it('refuses an unknown key or bad YAML from stdin and changes nothing', async () => {
      const before = await showJson('keep');
      assertOneLineError(
        await berth(['profile', 'edit', 'keep'], 'description: x\nconfig:\n  limits.bogus: 1\n'),
        /^Error: Invalid config\["limits\.bogus"\]: unknown configuration key$/,
      );
      assertOneLineError(
        await berth(['profile', 'edit', 'keep'], 'config: [1\n'),
        /^Error: invalid YAML: .+ at line \d+, column \d+$/,
      );
      assertOneLineError(await berth(['profile', 'edit', 'keep'], ''), /^Error: invalid profile: expected a YAML mapping/);
      assertOneLineError(
        await berth(['profile', 'edit', 'keep'], 'name: other\n'),
        /^Error: invalid profile: the name cannot be changed here/,
      );
      assert.deepEqual(await showJson('keep'), before);
    });

    it('refuses a duplicate or invalid name and creates nothing', async () => {
      const before = await names();
      assertOneLineError(await berth(['profile', 'create', 'keep']), /^Error: Profile "keep" already exists$/);
      assertOneLineError(await berth(['profile', 'create', 'bad name']), /^Error: Invalid name: must not contain spaces$/);
      assertOneLineError(await berth(['profile', 'copy', 'keep', '1234']), /^Error: Invalid name: must not be only digits$/);
      assertOneLineError(await berth(['profile', 'rename', 'keep', 'default']), /^Error: Profile "default" already exists$/);
      assert.deepEqual(await names(), before);
      assert.equal((await showJson('keep')).description, 'Must not change');
    });

    it('reports a missing profile or an unset key in one line', async () => {
      assertOneLineError(await berth(['profile', 'delete', 'nope']), /^Error: Profile not found: "nope"$/);
      assertOneLineError(await berth(['profile', 'set', 'nope', 'limits.cpu=1']), /^Error: Profile not found: "nope"$/);
      assertOneLineError(await berth(['profile', 'unset', 'keep', 'user.absent']), /^Error: key "user\.absent" is not set on profile "keep"$/);
    });

    it('reports usage mistakes in one line', async () => {
      assertOneLineError(
        await berth(['profile', 'list', '--format', 'xml']),
        /^Error: option '-f, --format <format>' argument 'xml' is invalid\. Allowed choices are table, json, yaml, csv\.$/,
      );
      assertOneLineError(await berth(['profile', 'lst']), /^Error: unknown command 'lst' \(Did you mean one of list, ls\?\)$/);
      assertOneLineError(await berth(['profile', 'set', 'keep', 'a=1', 'b']), /^Error: invalid argument "b": expected <key>=<value>$/);
      assert.deepEqual((await showJson('keep')).config, { 'limits.cpu': '1' });
    });

    it('says where it looked when no daemon answers', async () => {
      const empty = await mkdtemp(join(tmpdir(), 'berth-cli-nodaemon-'));
      try {
        assertOneLineError(
          await berth(['info'], '', { ...d.env, BERTH_DIR: empty }),
          new RegExp(`^Error: cannot reach berthd: no socket at ${join(empty, 'unix.socket')} `),
        );
      } finally {
        await rm(empty, { recursive: true, force: true });
      }
    });
  });

  describe('operations', () => {
    it('lists, shows and waits for an operation', async () => {
      const id = await startOperation({ duration_ms: 2500 });
      const listed = JSON.parse(await ok(['operation', 'list', '--format', 'json'])) as OperationJson[];
      assert.equal(listed.find((op) => op.id === id)?.status, 'Running');
      assert.match(await ok(['operation', 'list']), new RegExp(`^\\| ${id} \\| task +\\| .* \\| Running +\\| NO +\\|`, 'm'));

      const waited = parseYaml(await ok(['operation', 'wait', id])) as OperationJson;
      assert.equal(waited.status, 'Success');
      assert.deepEqual(waited.metadata, { slept_ms: 2500 });
      const shown = JSON.parse(await ok(['operation', 'show', id, '--format', 'json'])) as OperationJson;
      assert.equal(shown.status_code, 200);
    });

    it('fails `wait` with the operation\'s error when it fails, and when time runs out', async () => {
      const failing = await startOperation({ duration_ms: 10, fail: 'disk on fire' });
      const failed = await berth(['operation', 'wait', failing, '--format', 'json']);
      assert.equal(failed.code, 1);
      assert.equal((JSON.parse(failed.stdout) as OperationJson).status, 'Failure');
      assert.equal(failed.stderr, 'Error: disk on fire\n');

      const slow = await startOperation({ duration_ms: 60_000, cancellable: true });
      const timedOut = await berth(['operation', 'wait', slow, '--timeout', '1', '--format', 'json']);
      assert.equal(timedOut.code, 1);
      assert.equal((JSON.parse(timedOut.stdout) as OperationJson).status, 'Running');
      assert.equal(timedOut.stderr, `Error: operation ${slow} is still Running after 1 seconds\n`);

      assert.equal(await ok(['operation', 'delete', slow]), '');
      const cancelled = await d.api().get(`/1.0/operations/${slow}`).expect(200);
      assert.equal(cancelled.body.metadata.status, 'Cancelled');
    });

    it('reports an unknown operation in one line', async () => {
      assertOneLineError(
        await berth(['operation', 'show', '00000000-0000-0000-0000-000000000000']),
        /^Error: .*not found/i,
      );
    });
  });

  describe('monitor', () => {
    it('prints the profile-created event of another CLI call, filtered by type, until interrupted', async () => {
      const monitor = spawn(process.execPath, [BERTH, 'monitor', '--type', 'lifecycle', '--format', 'json'], {
        env: d.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const exited = new Promise<number | null>((resolve) => monitor.once('exit', (code) => resolve(code)));
      let stderr = '';
      monitor.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const events: Array<{ type: string; metadata: { action?: string; source?: string } }> = [];
      createInterface({ input: monitor.stdout }).on('line', (line) => events.push(JSON.parse(line)));

      // The monitor subscribes asynchronously: create profiles until one's event comes through.
      let created: string | undefined;
      for (let attempt = 0; attempt < 30 && created === undefined; attempt += 1) {
        const name = `watched-${attempt}`;
        await ok(['profile', 'create', name]);
        const deadline = Date.now() + 500;
        while (Date.now() < deadline && created === undefined) {
          if (events.some((e) => e.metadata.source === `/1.0/profiles/${name}`)) created = name;
          else await new Promise((r) => setTimeout(r, 25));
        }
      }
      assert.ok(created, `no profile-created event printed; stderr: ${stderr}`);
      const event = events.find((e) => e.metadata.source === `/1.0/profiles/${created}`);
      assert.equal(event?.type, 'lifecycle');
      assert.equal(event?.metadata.action, 'profile-created');
      assert.ok(events.every((e) => e.type === 'lifecycle'), JSON.stringify(events));

      monitor.kill('SIGINT');
      assert.equal(await exited, 0);
      assert.equal(stderr, '');
      for (const name of (await names()).filter((n) => n.startsWith('watched-'))) {
        await ok(['profile', 'delete', name]);
      }
    });

    it('prints events as YAML documents by default', async () => {
      const monitor = spawn(process.execPath, [BERTH, 'monitor', '--type', 'lifecycle'], {
        env: d.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const exited = new Promise<number | null>((resolve) => monitor.once('exit', (code) => resolve(code)));
      let stdout = '';
      monitor.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      for (let attempt = 0; attempt < 30 && !stdout.includes('source: /1.0/profiles/yaml-'); attempt += 1) {
        await ok(['profile', 'create', `yaml-${attempt}`]);
        await new Promise((r) => setTimeout(r, 300));
      }
      monitor.kill('SIGINT');
      assert.equal(await exited, 0);
      const documents = parseAllDocuments(stdout).map(
        (document) => document.toJS() as { type: string; metadata: { action: string; source: string } },
      );
      assert.ok(documents.length >= 1, stdout);
      assert.ok(
        documents.some((e) => e.metadata.action === 'profile-created' && e.metadata.source.startsWith('/1.0/profiles/yaml-')),
        stdout,
      );
      for (const name of (await names()).filter((n) => n.startsWith('yaml-'))) {
        await ok(['profile', 'delete', name]);
      }
    });

    it('refuses an unknown event type with the server\'s message', async () => {
      assertOneLineError(await berth(['monitor', '--type', 'gossip']), /^Error: Invalid type: unknown event type "gossip"$/);
    });
  });
});

describe('berth monitor when berthd stops', () => {
  let d: Daemon;

  before(async () => {
    d = await startDaemon();
  });
  after(async () => {
    await d.destroy();
  });

  it('ends with one error line and a failure status', async () => {
    const monitor = spawn(process.execPath, [BERTH, 'monitor', '--format', 'json'], {
      env: d.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => monitor.once('exit', (code) => resolve(code)));
    let stdout = '';
    let stderr = '';
    monitor.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    monitor.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Connected once it prints the logging event of a request made after it started.
    const deadline = Date.now() + 15_000;
    while (!stdout.includes('"type":"logging"') && Date.now() < deadline) {
      await d.api().get('/1.0').expect(200);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.match(stdout, /"type":"logging"/);

    assert.equal(await d.stop(), 0);
    assert.equal(await exited, 1);
    assert.equal(stderr, 'Error: berthd closed the event stream\n');
  });
});
