// The README's main job through the real CLI: build the debian-12 image, launch, exec, stop, start, delete.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { berthRunner } from '../support/cli.js';

describe('berth launch, exec, stop, start, delete (real containers)', () => {
  let d: Daemon;
  const { berth, ok } = berthRunner(() => d, { timeoutMs: 30 * 60 * 1000 });

  before(async () => {
    d = await startDaemon();
  });
  after(async () => {
    await d.destroy();
  });

  it('builds the debian-12 image from its recipe and imports it (again: already there)', async () => {
    assert.match(await ok('image', 'build', 'images/debian-12', '--alias', 'debian/12'), /^Image imported with fingerprint: [0-9a-f]{64}\n$/);
    assert.match(await ok('image', 'build', 'images/debian-12', '--alias', 'debian/12'), /^Image already imported with fingerprint: [0-9a-f]{64}\n$/);
  });

  it('berth launch debian/12 c1 && berth exec c1 -- systemctl is-system-running prints running', async () => {
    assert.equal(await ok('launch', 'debian/12', 'c1', '-c', 'limits.cpu=1'), 'Instance c1 started\n');
    assert.equal(await ok('exec', 'c1', '--', 'systemctl', 'is-system-running', '--wait'), 'running\n');
    assert.equal(await ok('exec', 'c1', '--', 'nproc'), '1\n');
    assert.match(await ok('list', '--format', 'csv'), /^c1,RUNNING,,,CONTAINER,0,\d+\.\d{2}s\n$/);
  });

  it('passes the exit code, stderr, environment and working directory of the command', async () => {
    const r = await berth('exec', 'c1', '--env', 'GREETING=hello', '--cwd', '/tmp', '--', 'sh', '-c', 'echo "$GREETING from $(pwd)"; echo oops >&2; exit 5');
    assert.deepEqual(r, { code: 5, stdout: 'hello from /tmp\n', stderr: 'oops\n' });
  });

  it('refuses what cannot be done in one line, changing nothing', async () => {
    const again = await berth('start', 'c1');
    assert.deepEqual(again, { code: 1, stdout: '', stderr: 'Error: The instance is already running\n' });
    const missing = await berth('exec', 'nope', '--', 'true');
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'Error: Instance not found: "nope"\n');
  });

  it('stops, starts again, and deletes, leaving no volume', async () => {
    await ok('stop', 'c1');
    assert.equal(await ok('list', '--format', 'csv'), 'c1,STOPPED,,,CONTAINER,0,\n');
    const stopped = await berth('exec', 'c1', '--', 'true');
    assert.deepEqual(stopped, { code: 1, stdout: '', stderr: 'Error: Instance "c1" is not running\n' });
    await ok('start', 'c1');
    assert.equal(await ok('exec', 'c1', '--', 'systemctl', 'is-system-running', '--wait'), 'running\n');
    await ok('restart', 'c1');
    assert.equal(await ok('exec', 'c1', '--', 'systemctl', 'is-system-running', '--wait'), 'running\n');
    await ok('stop', 'c1', '--force');
    await ok('delete', 'c1');
    assert.equal(await ok('list', '--format', 'csv'), '');
    assert.equal(existsSync(`${d.dir}/storage/default/containers/c1`), false);
  });
});
