import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import {
  Runtime,
  ContainerAlreadyRunningError,
  ContainerNotRunningError,
  InvalidContainerSpecError,
  NativeCallError,
  type ContainerState,
} from '#runtime';

import { NAMESPACES, Sandbox, cgroupMounts, exists, processGone, statusField } from './helpers.js';

const run = promisify(execFile);
const IDMAP = { hostId: 1_000_000, count: 65_536 };

/** Everything the host could still hold of a stopped container. */
async function assertNothingLeft(sandbox: Sandbox, state: ContainerState, rootfs: string): Promise<void> {
  assert.ok(processGone(state.pid), `init ${state.pid} is gone`);
  assert.ok(processGone(state.monitorPid), `monitor ${state.monitorPid} is gone`);
  assert.match(state.cgroup, /^berth\/[A-Za-z0-9-]+-[0-9a-f]{8}$/);
  assert.match(state.monitorCgroup, /^berth\/monitor\/[A-Za-z0-9-]+-[0-9a-f]{8}$/);
  for (const mount of await cgroupMounts()) {
    assert.equal(exists(path.join(mount, state.cgroup)), false, `${mount}/${state.cgroup} removed`);
    assert.equal(exists(path.join(mount, state.monitorCgroup)), false, `${mount}/${state.monitorCgroup} removed`);
  }
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  assert.equal(mountinfo.includes(rootfs), false, 'no mount of the rootfs on the host');
  const runtimeDir = path.join(sandbox.runtime.berthDir, 'containers', state.name);
  assert.equal(exists(path.join(runtimeDir, 'monitor.sock')), false, 'control socket removed');
  assert.equal(exists(path.join(runtimeDir, 'state.json')), false, 'state file removed');
}

describe('runtime: systemd as PID 1, unprivileged, in its own namespaces', () => {
  let sandbox: Sandbox;
  let rootfs: string;
  let state: ContainerState;
  const uuid = randomUUID().replaceAll('-', '');

  before(async () => {
    sandbox = await Sandbox.create();
    rootfs = await sandbox.rootfs('web');
    state = await sandbox.runtime.start({ name: 'web', rootfs, idmap: IDMAP, uuid });
  });

  after(async () => {
    await sandbox.dispose();
  });

  it('reports READY=1 from systemd (readyMs), the state staying Running', () => {
    assert.ok(state.state === 'Running' && state.readyMs !== null, `Running, systemd's READY=1 seen: ${JSON.stringify(state)}`);
    assert.equal(typeof state.readyMs, 'number');
  });

  it('presents the rootfs through an idmapped mount, the tree on disk left as it is', async () => {
    assert.equal(state.idmapMode, 'idmapped');
    assert.deepEqual([statSync(path.join(rootfs, 'etc/passwd')).uid, statSync(rootfs).uid], [0, 0]);
    const { stdout } = await sandbox.runtime.exec('web', ['stat', '-c', '%u:%g', '/etc/passwd', '/etc/shadow']);
    assert.equal(stdout, '0:0\n0:42\n');
  });

  it('runs the monitor in a cgroup of its own, beside the container\'s and apart from the daemon\'s', async () => {
    assert.match(state.monitorCgroup, /^berth\/monitor\/web-[0-9a-f]{8}$/);
    const lines = (pid: number | 'self') => readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
    const monitor = lines(state.monitorPid);
    const daemon = lines('self');
    assert.equal(monitor.length, daemon.length, `every hierarchy:\n${monitor.join('\n')}`);
    for (const line of monitor) assert.equal(line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1), `/${state.monitorCgroup}`);
    assert.equal(monitor.some((line) => daemon.includes(line)), false, 'no cgroup shared with the daemon');
    for (const mount of await cgroupMounts()) {
      const procs = readFileSync(path.join(mount, state.monitorCgroup, 'cgroup.procs'), 'utf8').trim();
      assert.equal(procs, String(state.monitorPid), `${mount}: the monitor alone`);
      assert.equal(exists(path.join(mount, state.cgroup, 'payload', state.monitorCgroup)), false);
    }
    /* The container's processes are in the container's cgroup, not the monitor's. */
    assert.ok(lines(state.pid).every((line) => line.endsWith(`/${state.cgroup}/payload`) || line.includes(`/${state.cgroup}/payload/`)), lines(state.pid).join('\n'));
  });

  it('runs systemd as PID 1 of a new pid namespace, with container=berth', async () => {
    assert.equal(statusField(state.pid, 'NSpid'), `${state.pid}\t1`);
    assert.equal((await readFile(`/proc/${state.pid}/comm`, 'utf8')).trim(), 'systemd');
    const environ = (await readFile(`/proc/${state.pid}/environ`, 'utf8')).split('\0');
    assert.ok(environ.includes('container=berth'));
    assert.ok(environ.includes(`container_uuid=${uuid}`));
  });

  it('puts PID 1 in all eight namespaces, each different from the host', () => {
    for (const ns of NAMESPACES) {
      const inside = statSync(`/proc/${state.pid}/ns/${ns}`).ino;
      const host = statSync(`/proc/self/ns/${ns}`).ino;
      assert.notEqual(inside, host, `${ns} namespace differs from the host's`);
    }
  });

  it('maps root inside to the unprivileged host range', async () => {
    assert.equal(statusField(state.pid, 'Uid').split('\t')[0], String(IDMAP.hostId));
    const { stdout } = await sandbox.runtime.exec('web', ['id', '-u']);
    assert.equal(stdout.trim(), '0');
    const uidMap = (await readFile(`/proc/${state.pid}/uid_map`, 'utf8')).trim().split(/\s+/);
    assert.deepEqual(uidMap, ['0', String(IDMAP.hostId), String(IDMAP.count)]);
  });

  it('reaches systemctl is-system-running = running, with no failed unit', async () => {
    const result = await sandbox.runtime.exec('web', ['systemctl', 'is-system-running', '--wait']);
    const failed = await sandbox.runtime.exec('web', ['systemctl', '--failed', '--no-legend', '--plain']);
    assert.equal(failed.stdout.trim(), '', `failed units:\n${failed.stdout}`);
    assert.equal(result.stdout.trim(), 'running');
  });

  it('sets the hostname to the instance name', async () => {
    assert.equal((await sandbox.runtime.exec('web', ['hostname'])).stdout.trim(), 'web');
  });

  it('mounts /sys read-only and shows no host mount inside', async () => {
    const { stdout } = await sandbox.runtime.exec('web', ['cat', '/proc/self/mountinfo']);
    const mounts = stdout.trim().split('\n').map((l) => l.split(' '));
    const sys = mounts.find((f) => f[4] === '/sys');
    assert.ok(sys && sys[5]!.split(',').includes('ro'), '/sys is read-only');
    const points = mounts.map((f) => f[4]!);
    assert.equal(points[0], '/');
    for (const hostOnly of ['/work', '/var/tmp', '/sys/fs/cgroup/memory', '/sys/fs/cgroup/unified', sandbox.dir]) {
      assert.equal(points.some((p) => p.startsWith(hostOnly)), false, `${hostOnly} not visible inside`);
    }
    const touch = await sandbox.runtime.exec('web', ['touch', '/sys/kernel/berth-test']);
    assert.notEqual(touch.exitCode, 0);
    const options = (point: string) => mounts.find((f) => f[4] === point)?.[5]?.split(',') ?? [];
    assert.ok(options('/proc/sys').includes('ro'), '/proc/sys is read-only');
    assert.ok(options('/proc/sys/net').includes('rw'), '/proc/sys/net stays writable');
    for (const masked of ['/proc/kcore', '/proc/keys', '/proc/sysrq-trigger', '/proc/timer_list', '/proc/kallsyms']) {
      if (exists(masked)) assert.ok(points.includes(masked), `${masked} (present on this kernel) is masked`);
    }
    const devices = await sandbox.runtime.exec('web', ['stat', '-L', '-c', '%n %F %t:%T', '/dev/console', '/dev/null', '/dev/ptmx']);
    const lines = devices.stdout.trim().split('\n');
    assert.match(lines[0]!, /^\/dev\/console character special file 88:/, 'the console is a pty slave (major 136)');
    assert.equal(lines[1], '/dev/null character special file 1:3');
    assert.match(lines[2]!, /^\/dev\/ptmx character special file 5:2$/);
    const pts = mounts.find((f) => f[4] === '/dev/pts');
    assert.ok(pts && pts[pts.length - 1]!.includes('ptmxmode=666'), 'a new devpts instance');
  });

  it('gives systemd a delegated cgroup2 tree of its own', async () => {
    const { stdout } = await sandbox.runtime.exec('web', ['cat', '/proc/1/cgroup']);
    assert.ok(stdout.split('\n').includes('0::/init.scope'), stdout);
    const unified = (await cgroupMounts()).find((m) => exists(path.join(m, 'cgroup.procs')) && exists(path.join(m, 'cgroup.subtree_control')));
    assert.ok(unified);
    const payload = statSync(path.join(unified, state.cgroup, 'payload'));
    assert.equal(payload.uid, IDMAP.hostId);
    assert.ok(exists(path.join(unified, state.cgroup, 'payload', 'init.scope')));
  });

  it('exec returns exit codes, streams stdin to stdout and leaks no descriptor', async () => {
    assert.equal((await sandbox.runtime.exec('web', ['sh', '-c', 'exit 7'])).exitCode, 7);
    const echoed = await sandbox.runtime.exec('web', ['cat'], { input: 'hello from the host\n' });
    assert.equal(echoed.stdout, 'hello from the host\n');
    const canary = openSync('/etc/hostname', 'r');
    try {
      const { stdout } = await sandbox.runtime.exec('web', ['sh', '-c', 'exec ls /proc/self/fd']);
      assert.deepEqual(stdout.trim().split(/\s+/).sort(), ['0', '1', '2', '3']);
    } finally {
      closeSync(canary);
    }
    const env = await sandbox.runtime.exec('web', ['sh', '-c', 'echo $BERTH_X; pwd'], { env: { BERTH_X: 'y' }, cwd: '/tmp' });
    assert.equal(env.stdout, 'y\n/tmp\n');
  });

  it('exec on a terminal from the container\'s devpts, of the requested size', async () => {
    const result = await sandbox.runtime.exec('web', ['sh', '-c', 'tty; stty size; test -t 0 && echo interactive'], {
      pty: { rows: 30, cols: 100 },
    });
    assert.equal(result.exitCode, 0);
    assert.deepEqual(result.stdout.split('\r\n'), ['/dev/pts/0', '30 100', 'interactive', '']);
    const typed = await sandbox.runtime.exec('web', ['sh', '-c', 'read line; echo "got $line"'], {
      pty: { rows: 24, cols: 80 },
      input: 'hello\n',
    });
    assert.match(typed.stdout, /got hello/);
  });

  it('exec of a missing command is a typed error carrying execve and ENOENT', async () => {
    await assert.rejects(sandbox.runtime.exec('web', ['/no/such/command']), (error: unknown) => {
      assert.ok(error instanceof NativeCallError);
      assert.equal(error.syscall, 'execve');
      assert.equal(error.errnoCode, 'ENOENT');
      return true;
    });
  });

  it('refuses to start a name that is already running', async () => {
    await assert.rejects(
      sandbox.runtime.start({ name: 'web', rootfs, idmap: IDMAP }),
      ContainerAlreadyRunningError,
    );
  });

  it('logs the console and lets clients attach to it', { timeout: 60_000 }, async () => {
    const log = await readFile(path.join(sandbox.runtime.berthDir, 'containers', 'web', 'console.log'), 'utf8');
    assert.match(log, /Welcome to .*Debian GNU\/Linux 12/);
    const console = await sandbox.runtime.attachConsole('web');
    try {
      let seen = '';
      let typed = false;
      /* Once getty's prompt is there (replayed or live), a login name gets a password prompt. */
      const prompted = new Promise<void>((resolve) => {
        console.on('data', (chunk: Buffer) => {
          seen += chunk.toString('utf8');
          if (!typed && seen.endsWith('web login: ')) {
            typed = true;
            console.write('root\r');
          }
          if (typed && /root\r\r\nPassword: $/.test(seen)) resolve();
        });
      });
      console.resume();
      await prompted;
      assert.match(seen, /Debian GNU\/Linux 12 web console/);
    } finally {
      console.destroy();
    }
  });

  it('signals through the addon fail as typed errors with syscall and errno', async () => {
    await assert.rejects(sandbox.runtime.killProcess(2 ** 22 + 1), (error: unknown) => {
      assert.ok(error instanceof NativeCallError);
      assert.equal(error.syscall, 'pidfd_open');
      assert.equal(error.errnoCode, 'ESRCH');
      assert.equal(error.message, 'pidfd_open(2) failed: ESRCH');
      return true;
    });
  });

  it('restarts the container when systemd reboots it from inside', { timeout: 120_000 }, async () => {
    await sandbox.runtime.exec('web', ['systemctl', 'reboot']).catch(() => undefined);
    let now = await sandbox.runtime.state('web');
    while (now.reboots === 0 && now.state !== 'Stopped') {
      await new Promise((resolve) => setTimeout(resolve, 50));
      now = await sandbox.runtime.state('web');
    }
    assert.equal(now.reboots, 1);
    assert.equal(now.lastExit, 'reboot');
    const ready = await sandbox.runtime.waitReady('web');
    assert.ok(ready.state === 'Running' && ready.readyMs !== null, `Running, systemd's READY=1 seen: ${JSON.stringify(ready)}`);
    assert.notEqual(ready.pid, state.pid);
    assert.notEqual(ready.cgroup, state.cgroup, 'a fresh cgroup after reboot');
    for (const mount of await cgroupMounts()) {
      assert.equal(exists(path.join(mount, state.cgroup)), false, `old ${mount}/${state.cgroup} removed`);
    }
    state = ready;
  });

  it('stops cleanly with SIGRTMIN+3 and leaves nothing behind', async () => {
    const final = await sandbox.runtime.stop('web', { timeout: 30 });
    assert.equal(final.state, 'Stopped');
    assert.equal(final.lastExit, 'poweroff', 'systemd halted (PID 1 ended by SIGINT from reboot(2))');
    await assertNothingLeft(sandbox, state, rootfs);
    await assert.rejects(sandbox.runtime.stop('web'), ContainerNotRunningError);
    assert.equal((await sandbox.runtime.state('web')).state, 'Stopped');
  });
});

describe('runtime: the monitor outlives the process that started it', () => {
  let sandbox: Sandbox;
  let rootfs: string;

  before(async () => {
    sandbox = await Sandbox.create();
    rootfs = await sandbox.rootfs('detached');
  });

  after(async () => {
    await sandbox.dispose();
  });

  it('keeps the container running after the starting Node process exited, and poweroff inside stops it', { timeout: 120_000 }, async () => {
    const index = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../libs/runtime/src/index.js');
    const script = `
      const { Runtime } = await import(${JSON.stringify(index)});
      const runtime = new Runtime({ berthDir: ${JSON.stringify(sandbox.runtime.berthDir)} });
      const state = await runtime.start({ name: 'detached', rootfs: ${JSON.stringify(rootfs)}, idmap: { hostId: 1065536, count: 65536 } });
      process.stdout.write(JSON.stringify({ node: process.pid, ...state }));
      process.exit(0);`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
    const started = JSON.parse(stdout) as ContainerState & { node: number };
    assert.ok(processGone(started.node), 'the starting Node process is gone');
    assert.equal(processGone(started.monitorPid), false, 'the monitor is alive');
    assert.notEqual(statusField(started.monitorPid, 'PPid'), String(started.node));
    const now = await sandbox.runtime.state('detached');
    assert.ok(now.state === 'Running' && now.readyMs !== null, `Running, systemd's READY=1 seen: ${JSON.stringify(now)}`);
    assert.equal(now.pid, started.pid);
    assert.equal((await sandbox.runtime.exec('detached', ['hostname'])).stdout.trim(), 'detached');
    /* A daemon started afresh finds it, unchanged. */
    const adopted = await new Runtime({ berthDir: sandbox.runtime.berthDir }).adoptRunning();
    assert.deepEqual(
      adopted.map((s) => [s.name, s.pid, s.monitorPid, s.state]),
      [['detached', started.pid, started.monitorPid, 'Running']],
    );

    await sandbox.runtime.exec('detached', ['systemctl', 'poweroff']).catch(() => undefined);
    let after = await sandbox.runtime.state('detached');
    while (after.state !== 'Stopped') {
      await new Promise((resolve) => setTimeout(resolve, 50));
      after = await sandbox.runtime.state('detached');
    }
    /* The socket goes first, then the monitor exits. */
    while (!processGone(started.monitorPid)) await new Promise((resolve) => setTimeout(resolve, 20));
    await assertNothingLeft(sandbox, { ...started, name: 'detached', cgroup: now.cgroup }, rootfs);
  });
});

describe('runtime: a monitor killed with SIGKILL', () => {
  let sandbox: Sandbox;
  let rootfs: string;

  before(async () => {
    sandbox = await Sandbox.create();
    rootfs = await sandbox.rootfs('crash');
  });

  after(async () => {
    await sandbox.dispose();
  });

  it('takes its container along, and the next start clears what it left', { timeout: 120_000 }, async () => {
    const first = await sandbox.runtime.start({ name: 'crash', rootfs, idmap: IDMAP });
    process.kill(first.monitorPid, 'SIGKILL');
    while (!processGone(first.pid) || !processGone(first.monitorPid)) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal((await sandbox.runtime.state('crash')).state, 'Stopped');
    const second = await sandbox.runtime.start({ name: 'crash', rootfs, idmap: IDMAP });
    assert.ok(second.state === 'Running' && second.readyMs !== null, `Running, systemd's READY=1 seen: ${JSON.stringify(second)}`);
    assert.notEqual(second.monitorCgroup, first.monitorCgroup);
    for (const mount of await cgroupMounts()) {
      assert.equal(exists(path.join(mount, first.cgroup)), false, `stale ${mount}/${first.cgroup} removed`);
      assert.equal(exists(path.join(mount, first.monitorCgroup)), false, `stale ${mount}/${first.monitorCgroup} removed`);
    }
    await sandbox.runtime.stop('crash');
    await assertNothingLeft(sandbox, second, rootfs);
  });
});

describe('runtime: a stop asked for before systemd is ready is not lost', () => {
  let sandbox: Sandbox;
  let rootfs: string;

  before(async () => {
    sandbox = await Sandbox.create();
    rootfs = await sandbox.rootfs('early');
  });

  after(async () => {
    await sandbox.dispose();
  });

  it('halts cleanly (not killed) when stopped right after start', async () => {
    const started = await sandbox.runtime.start({ name: 'early', rootfs, idmap: IDMAP, waitReady: false });
    assert.equal(started.state, 'Running');
    const final = await sandbox.runtime.stop('early', { timeout: 60 });
    assert.equal(final.lastExit, 'poweroff', 'systemd halted instead of being killed at the deadline');
    await assertNothingLeft(sandbox, started, rootfs);
  });

  it('force kills at once', async () => {
    const started = await sandbox.runtime.start({ name: 'early', rootfs, idmap: IDMAP });
    const final = await sandbox.runtime.stop('early', { force: true });
    assert.equal(final.lastExit, 'killed:9');
    await assertNothingLeft(sandbox, started, rootfs);
  });
});

describe('runtime: the cgroup2-only layout of pure v2 hosts', () => {
  let sandbox: Sandbox;
  let rootfs: string;

  before(async () => {
    sandbox = await Sandbox.create();
    rootfs = await sandbox.rootfs('v2');
  });

  after(async () => {
    await sandbox.dispose();
  });

  it('boots to running in the cgroup2 hierarchy alone and is killed through cgroup.kill', async () => {
    const started = await sandbox.runtime.start({ name: 'v2', rootfs, idmap: IDMAP, cgroup2Only: true });
    assert.equal(started.cgroupLayout, 'unified');
    const mounts = await cgroupMounts();
    const unified = mounts.filter((m) => exists(path.join(m, 'cgroup.subtree_control')));
    assert.equal(unified.length, 1);
    for (const mount of mounts) {
      assert.equal(exists(path.join(mount, started.cgroup)), mount === unified[0], `${mount}/${started.cgroup}`);
    }
    const result = await sandbox.runtime.exec('v2', ['systemctl', 'is-system-running', '--wait']);
    assert.equal(result.stdout.trim(), 'running');
    const final = await sandbox.runtime.stop('v2', { force: true });
    assert.equal(final.lastExit, 'killed:9');
    await assertNothingLeft(sandbox, started, rootfs);
  });

  it('limits device access with a BPF device program, as devices.allow does on v1', async () => {
    /* Privileged, and out of the v1 devices hierarchy: the program is all that stands in the way. */
    const started = await sandbox.runtime.start({ name: 'v2', rootfs, idmap: null, cgroup2Only: true });
    assert.equal(started.cgroupLayout, 'unified');
    const devices = await cgroupMounts().then((mounts) => mounts.find((m) => exists(path.join(m, 'devices.allow'))));
    const v1 = readFileSync(`/proc/${started.pid}/cgroup`, 'utf8').split('\n').find((line) => line.split(':')[1] === 'devices');
    if (devices && v1) {
      assert.equal(readFileSync(path.join(devices, v1.split(':')[2]!, 'devices.list'), 'utf8'), 'a *:* rwm\n', 'v1 allows everything');
    }
    const script = [
      'mknod /root/disk b 254 0 && mknod /root/kmsg c 1 11 && mknod /root/null c 1 3 && echo made',
      'for f in /dev/null /dev/zero /dev/urandom /dev/full /root/null /root/disk /root/kmsg; do head -c 0 "$f" 2>/dev/null && echo "$f open" || echo "$f denied"; done',
      'head -c 0 /root/kmsg',
    ].join('\n');
    const result = await sandbox.runtime.exec('v2', ['sh', '-c', script]);
    assert.deepEqual(result.stdout.trim().split('\n'), [
      'made',
      '/dev/null open',
      '/dev/zero open',
      '/dev/urandom open',
      '/dev/full open',
      '/root/null open',
      '/root/disk denied',
      '/root/kmsg denied',
    ]);
    assert.match(result.stderr, /Operation not permitted/);
    await sandbox.runtime.stop('v2', { force: true });
    await assertNothingLeft(sandbox, started, rootfs);
  });
});

describe('runtime: bad input is a typed error and leaves nothing behind', () => {
  let sandbox: Sandbox;

  before(async () => {
    sandbox = await Sandbox.create();
  });

  after(async () => {
    await sandbox.dispose();
  });

  async function assertNoTrace(name: string): Promise<void> {
    assert.equal(exists(path.join(sandbox.runtime.berthDir, 'containers', name)), false, 'no runtime dir');
    for (const mount of await cgroupMounts()) {
      for (const base of [path.join(mount, 'berth'), path.join(mount, 'berth', 'monitor')]) {
        const left = exists(base) ? (await readdir(base)).filter((e) => e.startsWith(`${name}-`)) : [];
        assert.deepEqual(left, [], `no cgroup of ${name} (nor of its monitor) in ${base}`);
      }
    }
  }

  it('a missing rootfs fails with open(2) ENOENT', async () => {
    await assert.rejects(
      sandbox.runtime.start({ name: 'nowhere', rootfs: path.join(sandbox.dir, 'missing'), idmap: IDMAP }),
      (error: unknown) => {
        assert.ok(error instanceof NativeCallError);
        assert.equal(error.syscall, 'open');
        assert.equal(error.errnoCode, 'ENOENT');
        assert.match(error.message, /^open\(2\) failed: ENOENT/);
        return true;
      },
    );
    await assertNoTrace('nowhere');
  });

  it('a rootfs without an init fails with execve(2) ENOENT', async () => {
    const empty = path.join(sandbox.dir, 'empty');
    await mkdir(empty, { recursive: true });
    await assert.rejects(sandbox.runtime.start({ name: 'noinit', rootfs: empty, idmap: IDMAP }), (error: unknown) => {
      assert.ok(error instanceof NativeCallError);
      assert.equal(error.syscall, 'execve');
      assert.equal(error.errnoCode, 'ENOENT');
      return true;
    });
    await assertNoTrace('noinit');
  });

  it('invalid names and id ranges are rejected before anything runs', async () => {
    for (const name of ['', '-a', 'a-', '123', 'a_b', 'a/b', '..', 'x'.repeat(64)]) {
      await assert.rejects(sandbox.runtime.start({ name, rootfs: '/', idmap: IDMAP }), InvalidContainerSpecError);
    }
    await assert.rejects(
      sandbox.runtime.start({ name: 'small', rootfs: '/', idmap: { hostId: 1_000_000, count: 100 } }),
      InvalidContainerSpecError,
    );
  });

  it('state, stop and exec of a container that is not running', async () => {
    assert.equal((await sandbox.runtime.state('ghost')).state, 'Stopped');
    await assert.rejects(sandbox.runtime.stop('ghost'), ContainerNotRunningError);
    await assert.rejects(sandbox.runtime.exec('ghost', ['true']), ContainerNotRunningError);
  });
});

describe('runtime: a userns container after a privileged one with the same name', () => {
  let sandbox: Sandbox;
  let rootfs: string;

  before(async () => {
    sandbox = await Sandbox.create();
    rootfs = await sandbox.rootfs('same');
  });

  after(async () => {
    await sandbox.dispose();
  });

  it('boots both (a fresh cgroup each time, never the stale one)', async () => {
    const privileged = await sandbox.runtime.start({ name: 'same', rootfs, idmap: null });
    assert.ok(privileged.state === 'Running' && privileged.readyMs !== null, `Running, systemd's READY=1 seen: ${JSON.stringify(privileged)}`);
    assert.equal(statusField(privileged.pid, 'Uid').split('\t')[0], '0');
    assert.equal(statSync(`/proc/${privileged.pid}/ns/user`).ino, statSync('/proc/self/ns/user').ino);
    /* The v1 device list: nodes can be made, but a host disk cannot be opened. */
    const disk = await sandbox.runtime.exec('same', ['sh', '-c', 'mknod /root/disk b 254 0 && head -c 1 /root/disk']);
    assert.notEqual(disk.exitCode, 0);
    assert.match(disk.stderr, /Operation not permitted/);
    await sandbox.runtime.stop('same');
    await assertNothingLeft(sandbox, privileged, rootfs);

    const unprivileged = await sandbox.runtime.start({ name: 'same', rootfs, idmap: IDMAP });
    assert.ok(unprivileged.state === 'Running' && unprivileged.readyMs !== null, `Running, systemd's READY=1 seen: ${JSON.stringify(unprivileged)}`);
    assert.notEqual(unprivileged.cgroup, privileged.cgroup);
    assert.equal(statusField(unprivileged.pid, 'Uid').split('\t')[0], String(IDMAP.hostId));
    const result = await sandbox.runtime.exec('same', ['systemctl', 'is-system-running', '--wait']);
    const failed = await sandbox.runtime.exec('same', ['systemctl', '--failed', '--no-legend', '--plain']);
    assert.equal(failed.stdout.trim(), '', `failed units:\n${failed.stdout}`);
    assert.equal(result.stdout.trim(), 'running');
    const restarted = await sandbox.runtime.restart({ name: 'same', rootfs, idmap: IDMAP });
    assert.ok(restarted.state === 'Running' && restarted.readyMs !== null, `Running, systemd's READY=1 seen: ${JSON.stringify(restarted)}`);
    assert.notEqual(restarted.pid, unprivileged.pid);
    for (const mount of await cgroupMounts()) {
      assert.equal(exists(path.join(mount, unprivileged.cgroup)), false, `${mount}/${unprivileged.cgroup} removed`);
    }
    await sandbox.runtime.stop('same');
    await assertNothingLeft(sandbox, restarted, rootfs);
  });
});
