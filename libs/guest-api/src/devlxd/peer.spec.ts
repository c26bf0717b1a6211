import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inContainerOf } from './peer.js';

describe('inContainerOf', () => {
  let proc: string;
  const task = async (pid: number, ppid: number, ns: string) => {
    await mkdir(join(proc, String(pid), 'ns'), { recursive: true });
    await writeFile(join(proc, String(pid), 'status'), `Name:\tx\nPPid:\t${ppid}\n`);
    await symlink(`pid:[${ns}]`, join(proc, String(pid), 'ns', 'pid'));
  };
  before(async () => {
    proc = await mkdtemp(join(tmpdir(), 'peer-'));
    await task(1, 0, 'host');
    await task(100, 1, 'host'); // a monitor
    await task(101, 100, 'c1'); // container 1's init
    await task(102, 101, 'c1'); // a process in it
    await task(103, 102, 'nested'); // a process of a container nested in it
    await task(200, 1, 'host'); // a host process
    await task(201, 100, 'c2'); // container 2's init
  });
  after(() => rm(proc, { recursive: true, force: true }));

  it('takes the container’s own processes and those of containers nested in it', async () => {
    assert.equal(await inContainerOf(102, 101, proc), true);
    assert.equal(await inContainerOf(101, 101, proc), true);
    assert.equal(await inContainerOf(103, 101, proc), true);
  });

  it('refuses host processes, another container’s, vanished ones, and a stopped container', async () => {
    assert.equal(await inContainerOf(200, 101, proc), false);
    assert.equal(await inContainerOf(100, 101, proc), false);
    assert.equal(await inContainerOf(201, 101, proc), false);
    assert.equal(await inContainerOf(999, 101, proc), false);
    assert.equal(await inContainerOf(102, 0, proc), false);
  });
});
