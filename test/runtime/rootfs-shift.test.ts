import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { lstatSync, statSync } from 'node:fs';
import { chmod, chown, copyFile, link, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { Runtime, type ContainerState } from '#runtime';

import { Sandbox, cgroupMounts, exists, monitorPath, processGone } from './helpers.js';

const run = promisify(execFile);
const BASE = 1_000_000;
const COUNT = 65_536;

/** security.capability as the host reads it: cap_net_raw in permitted, effective; v2, or v3 with a root id. */
function capability(rootid?: number): string {
  const v2 = '01000002' + '00200000' + '00000000' + '00000000' + '00000000';
  if (rootid === undefined) return v2;
  const root = Buffer.alloc(4);
  root.writeUInt32LE(rootid);
  return '01000003' + v2.slice(8) + root.toString('hex');
}

/** A POSIX ACL xattr (version 2) granting user `uid` rw- and group `gid` r--. */
function acl(uid: number, gid: number): string {
  const entry = (tag: number, perm: number, id: number) => {
    const b = Buffer.alloc(8);
    b.writeUInt16LE(tag);
    b.writeUInt16LE(perm, 2);
    b.writeUInt32LE(id, 4);
    return b.toString('hex');
  };
  const none = 0xffffffff;
  return '02000000' + entry(0x01, 6, none) + entry(0x02, 6, uid) + entry(0x04, 4, none) + entry(0x08, 4, gid) + entry(0x10, 6, none) + entry(0x20, 4, none);
}

const XATTR = String.raw`
import os, sys
op, path, name = sys.argv[1:4]
if op == "set":
    os.setxattr(path, name, bytes.fromhex(sys.argv[4]), follow_symlinks=False)
else:
    try:
        print(os.getxattr(path, name, follow_symlinks=False).hex())
    except OSError:
        print("-")
`;

async function setXattr(file: string, name: string, hex: string): Promise<void> {
  await run('python3', ['-c', XATTR, 'set', file, name, hex]);
}

async function getXattr(file: string, name: string): Promise<string> {
  return (await run('python3', ['-c', XATTR, 'get', file, name])).stdout.trim();
}

async function shift(dir: string, from: number, to: number, count = COUNT): Promise<{ ok: boolean; inodes?: number; syscall?: string; code?: string }> {
  const { stdout } = await run(monitorPath, ['shift', dir, '--from-base', String(from), '--to-base', String(to), '--count', String(count)]).catch(
    (error: { stdout: string }) => error,
  );
  return JSON.parse(stdout) as { ok: boolean; inodes?: number };
}

function owner(file: string): [number, number] {
  const st = lstatSync(file);
  return [st.uid, st.gid];
}

describe('berth-monitor shift: the ownership walk on its own', () => {
  let dir: string;
  let tree: string;
  let mounted: string | undefined;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'berth-shift-'));
    tree = path.join(dir, 'tree');
    await mkdir(path.join(tree, 'shared'), { recursive: true });
    await writeFile(path.join(tree, 'plain'), 'root');
    await writeFile(path.join(tree, 'user'), 'user');
    await chown(path.join(tree, 'user'), 1000, 1000);
    await link(path.join(tree, 'user'), path.join(tree, 'hard'));
    await writeFile(path.join(tree, 'outside'), 'not in the range');
    await chown(path.join(tree, 'outside'), 70_000, 70_001);
    await copyFile('/bin/true', path.join(tree, 'setuid'));
    await chmod(path.join(tree, 'setuid'), 0o4755);
    await copyFile('/bin/true', path.join(tree, 'setgid'));
    await chown(path.join(tree, 'setgid'), 0, 42);
    await chmod(path.join(tree, 'setgid'), 0o2755);
    await copyFile('/bin/true', path.join(tree, 'capable'));
    await setXattr(path.join(tree, 'capable'), 'security.capability', capability());
    await setXattr(path.join(tree, 'plain'), 'system.posix_acl_access', acl(1000, 1001));
    await setXattr(path.join(tree, 'shared'), 'system.posix_acl_default', acl(1002, 70_000));
    await symlink('/etc/hostname', path.join(tree, 'escape'));
    await run('chown', ['-h', '5:5', path.join(tree, 'escape')]);
    await run('mknod', [path.join(tree, 'null'), 'c', '1', '3']);
    await run('chown', ['1:1', path.join(tree, 'null')]);
    await run('mkfifo', [path.join(tree, 'fifo')]);
    /* Deeper than the usual 1024 descriptors: one is held per level. */
    const deep = path.join(tree, ...Array<string>(1100).fill('d'));
    await mkdir(deep, { recursive: true });
    await writeFile(path.join(deep, 'bottom'), 'deep');
    await chown(path.join(deep, 'bottom'), 1000, 1000);
    /* Another filesystem mounted inside the tree is not walked. */
    mounted = path.join(tree, 'mnt');
    await mkdir(mounted);
    await run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'berth-shift-test', mounted]);
    await writeFile(path.join(mounted, 'other-fs'), 'x');
  });

  after(async () => {
    if (mounted) await run('umount', [mounted]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('shifts every inode in the range, keeps setuid/setgid, capabilities and ACLs right, follows nothing', async () => {
    const hostname = statSync('/etc/hostname');
    const result = await shift(tree, 0, BASE);
    assert.equal(result.ok, true);
    assert.equal(result.inodes, 1 + 11 + 1100 + 1, 'the root, 11 entries, the deep chain and its file; not the tmpfs');
    assert.deepEqual(owner(tree), [BASE, BASE]);
    assert.deepEqual(owner(path.join(tree, 'plain')), [BASE, BASE]);
    assert.deepEqual(owner(path.join(tree, 'user')), [BASE + 1000, BASE + 1000]);
    assert.deepEqual(owner(path.join(tree, 'hard')), [BASE + 1000, BASE + 1000], 'a hard link is shifted once');
    assert.deepEqual(owner(path.join(tree, 'outside')), [70_000, 70_001], 'ids outside the range stay');
    assert.deepEqual(owner(path.join(tree, 'escape')), [BASE + 5, BASE + 5], 'the symlink itself');
    assert.deepEqual([statSync('/etc/hostname').uid, statSync('/etc/hostname').ctimeMs], [hostname.uid, hostname.ctimeMs], 'never its target');
    assert.deepEqual(owner(path.join(tree, 'null')), [BASE + 1, BASE + 1]);
    assert.deepEqual(owner(path.join(tree, 'fifo')), [BASE, BASE]);
    assert.deepEqual(owner(path.join(tree, ...Array<string>(1100).fill('d'), 'bottom')), [BASE + 1000, BASE + 1000]);
    assert.deepEqual(owner(path.join(tree, 'mnt', 'other-fs')), [0, 0], 'the tmpfs mounted inside is left alone');
    assert.equal(lstatSync(path.join(tree, 'setuid')).mode & 0o7777, 0o4755, 'chown cleared setuid: put back');
    assert.equal(lstatSync(path.join(tree, 'setgid')).mode & 0o7777, 0o2755, 'chown cleared setgid: put back');
    assert.deepEqual(owner(path.join(tree, 'setgid')), [BASE, BASE + 42]);
    assert.equal(await getXattr(path.join(tree, 'capable'), 'security.capability'), capability(BASE), 'v3, owned by the shifted root');
    assert.equal(await getXattr(path.join(tree, 'plain'), 'system.posix_acl_access'), acl(BASE + 1000, BASE + 1001));
    assert.equal(await getXattr(path.join(tree, 'shared'), 'system.posix_acl_default'), acl(BASE + 1002, 70_000));
  });

  it('refuses overlapping ranges before changing anything', async () => {
    const result = await shift(tree, BASE, BASE + 1000);
    assert.deepEqual([result.ok, result.syscall, result.code], [false, 'fchown', 'EINVAL']);
    assert.deepEqual(owner(path.join(tree, 'user')), [BASE + 1000, BASE + 1000]);
  });

  it('shifts back to exactly the tree it started from', async () => {
    assert.equal((await shift(tree, BASE, 0)).ok, true);
    assert.deepEqual(owner(tree), [0, 0]);
    assert.deepEqual(owner(path.join(tree, 'user')), [1000, 1000]);
    assert.deepEqual(owner(path.join(tree, 'escape')), [5, 5]);
    assert.deepEqual(owner(path.join(tree, 'outside')), [70_000, 70_001]);
    assert.equal(lstatSync(path.join(tree, 'setuid')).mode & 0o7777, 0o4755);
    assert.equal(await getXattr(path.join(tree, 'capable'), 'security.capability'), capability(), 'v2 again');
    assert.equal(await getXattr(path.join(tree, 'plain'), 'system.posix_acl_access'), acl(1000, 1001));
    assert.equal(await getXattr(path.join(tree, 'shared'), 'system.posix_acl_default'), acl(1002, 70_000));
  });
});

describe('runtime: a rootfs on an overlayfs mount, which refuses idmapped mounts', () => {
  let sandbox: Sandbox;
  let runtime: Runtime;
  let lower: string;
  let rootfs: string;
  let marker: string;
  let mounted = false;
  const warnings: Array<{ details: object; message: string }> = [];

  before(async () => {
    sandbox = await Sandbox.create();
    runtime = new Runtime({ berthDir: sandbox.runtime.berthDir, logger: { warn: (details, message) => warnings.push({ details, message }) } });
    lower = await sandbox.rootfs('lower');
    const layers = path.join(sandbox.dir, 'layers');
    await mkdir(path.join(layers, 'upper'), { recursive: true });
    await mkdir(path.join(layers, 'work'));
    rootfs = path.join(sandbox.dir, 'instance', 'rootfs');
    marker = path.join(sandbox.dir, 'instance', '.berth-shifted.rootfs');
    await mkdir(rootfs, { recursive: true });
    await run('mount', ['-t', 'overlay', 'berth-shift-test', '-o', `lowerdir=${lower},upperdir=${layers}/upper,workdir=${layers}/work`, rootfs]);
    mounted = true;
  });

  after(async () => {
    for (const state of await runtime.adoptRunning()) await runtime.stop(state.name, { force: true }).catch(() => undefined);
    if (mounted) await run('umount', [rootfs]);
    await sandbox.dispose();
  });

  async function assertStopped(state: ContainerState): Promise<void> {
    assert.ok(processGone(state.monitorPid) && processGone(state.pid));
    for (const mount of await cgroupMounts()) {
      assert.equal(exists(path.join(mount, state.cgroup)), false);
      assert.equal(exists(path.join(mount, state.monitorCgroup)), false);
    }
  }

  let first: ContainerState;

  it('shifts the ownership on disk, says so, and boots to running', { timeout: 300_000 }, async () => {
    first = await runtime.start({ name: 'ovl', rootfs, idmap: { hostId: BASE, count: COUNT } });
    assert.ok(first.state === 'Running' && first.readyMs !== null, `Running, systemd's READY=1 seen: ${JSON.stringify(first)}`);
    assert.equal(first.idmapMode, 'shifted');
    assert.equal((await runtime.state('ovl')).idmapMode, 'shifted');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.message, /cannot be idmapped: its ownership is shifted on disk/);
    assert.deepEqual(warnings[0]!.details, { container: 'ovl', rootfs, hostId: BASE, count: COUNT });
    assert.equal(await readFile(marker, 'utf8'), `shifted ${BASE} ${COUNT}\n`);

    /* The host side: hostId + the id inside, bits and capabilities kept; the lower layer untouched. */
    assert.deepEqual(owner(rootfs), [BASE, BASE]);
    assert.deepEqual(owner(path.join(rootfs, 'etc/shadow')), [BASE, BASE + 42]);
    assert.deepEqual(owner(path.join(lower, 'etc/shadow')), [0, 42]);
    assert.equal(lstatSync(path.join(rootfs, 'usr/bin/passwd')).mode & 0o7777, 0o4755);
    assert.equal(lstatSync(path.join(rootfs, 'usr/sbin/unix_chkpwd')).mode & 0o7777, 0o2755);
    assert.deepEqual(owner(path.join(rootfs, 'usr/sbin/unix_chkpwd')), [BASE, BASE + 42]);
    assert.deepEqual(owner(path.join(rootfs, 'var/log/journal')), [BASE, BASE + 999]);
    assert.equal(await getXattr(path.join(rootfs, 'usr/bin/ping'), 'security.capability'), capability(BASE));
    assert.equal(await getXattr(path.join(lower, 'usr/bin/ping'), 'security.capability'), capability());

    /* Inside: the ids the image was built with, a clean boot, and writes land as the container's root. */
    const ids = await runtime.exec('ovl', ['stat', '-c', '%u:%g %a', '/', '/etc/shadow', '/usr/bin/passwd', '/usr/sbin/unix_chkpwd']);
    assert.equal(ids.stdout, '0:0 755\n0:42 640\n0:0 4755\n0:42 2755\n');
    const running = await runtime.exec('ovl', ['systemctl', 'is-system-running', '--wait']);
    const failed = await runtime.exec('ovl', ['systemctl', '--failed', '--no-legend', '--plain']);
    assert.equal(failed.stdout.trim(), '', `failed units:\n${failed.stdout}`);
    assert.equal(running.stdout.trim(), 'running');
    await runtime.exec('ovl', ['touch', '/root/written-inside']);
    assert.deepEqual(owner(path.join(rootfs, 'root/written-inside')), [BASE, BASE]);
    /* ping's file capability (v3, rootid = the container's root) works for an unprivileged user inside. */
    const ping = await runtime.exec('ovl', ['ping', '-c', '1', '-W', '5', '127.0.0.1'], { uid: 65534, gid: 65534 });
    assert.equal(ping.exitCode, 0, ping.stderr);
  });

  it('a restart uses the shifted tree as it is: no second shift', { timeout: 300_000 }, async () => {
    const before = lstatSync(path.join(rootfs, 'usr/bin/passwd'));
    await runtime.stop('ovl');
    await assertStopped(first);
    const again = await runtime.start({ name: 'ovl', rootfs, idmap: { hostId: BASE, count: COUNT } });
    assert.equal(again.idmapMode, 'shifted');
    const after = lstatSync(path.join(rootfs, 'usr/bin/passwd'));
    assert.deepEqual([after.uid, after.mode, after.ctimeMs], [before.uid, before.mode, before.ctimeMs], 'not changed again');
    assert.deepEqual(owner(path.join(rootfs, 'etc/shadow')), [BASE, BASE + 42]);
    assert.equal(await readFile(marker, 'utf8'), `shifted ${BASE} ${COUNT}\n`);
    assert.equal((await runtime.exec('ovl', ['stat', '-c', '%u:%g', '/etc/shadow'])).stdout, '0:42\n');
    await runtime.stop('ovl');
    await assertStopped(again);
  });

  it('another map shifts back first, then anew; a privileged start shifts back for good', { timeout: 300_000 }, async () => {
    const other = 2_000_000;
    const remapped = await runtime.start({ name: 'ovl', rootfs, idmap: { hostId: other, count: COUNT } });
    assert.equal(remapped.idmapMode, 'shifted');
    assert.deepEqual(owner(path.join(rootfs, 'etc/shadow')), [other, other + 42]);
    assert.deepEqual(owner(path.join(rootfs, 'root/written-inside')), [other, other]);
    assert.equal(await getXattr(path.join(rootfs, 'usr/bin/ping'), 'security.capability'), capability(other));
    assert.equal(await readFile(marker, 'utf8'), `shifted ${other} ${COUNT}\n`);
    assert.equal((await runtime.exec('ovl', ['stat', '-c', '%u:%g', '/etc/shadow'])).stdout, '0:42\n');
    await runtime.stop('ovl');
    await assertStopped(remapped);

    const privileged = await runtime.start({ name: 'ovl', rootfs, idmap: null });
    assert.equal(privileged.idmapMode, 'none');
    assert.deepEqual(owner(rootfs), [0, 0]);
    assert.deepEqual(owner(path.join(rootfs, 'etc/shadow')), [0, 42]);
    assert.equal(lstatSync(path.join(rootfs, 'usr/bin/passwd')).mode & 0o7777, 0o4755);
    assert.equal(await getXattr(path.join(rootfs, 'usr/bin/ping'), 'security.capability'), capability());
    assert.equal(exists(marker), false, 'the marker goes with the shift');
    await runtime.stop('ovl');
    await assertStopped(privileged);
    assert.equal(warnings.length, 3, 'a warning at each shifted start');
  });

  it('a shift a crash interrupted is finished by the next start before anything else', { timeout: 300_000 }, async () => {
    /* Half done: one inode shifted, the marker still saying "shifting" (a shift is idempotent). */
    await chown(path.join(rootfs, 'etc/passwd'), BASE, BASE);
    await writeFile(marker, `shifting 0 ${BASE} ${COUNT}\n`, { mode: 0o600 });
    /* This start's map differs: the interrupted shift is finished, undone, then made anew. */
    const other = 3_000_000;
    const resumed = await runtime.start({ name: 'ovl', rootfs, idmap: { hostId: other, count: COUNT } });
    assert.equal(resumed.idmapMode, 'shifted');
    assert.equal(await readFile(marker, 'utf8'), `shifted ${other} ${COUNT}\n`);
    assert.deepEqual(owner(path.join(rootfs, 'etc/passwd')), [other, other]);
    assert.deepEqual(owner(path.join(rootfs, 'etc/shadow')), [other, other + 42]);
    assert.equal((await runtime.exec('ovl', ['stat', '-c', '%u:%g', '/etc/passwd', '/etc/shadow'])).stdout, '0:0\n0:42\n');
    await runtime.stop('ovl', { force: true });
    await assertStopped(resumed);
  });
});
