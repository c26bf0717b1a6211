// Any init, and the status as LXD has it, with LXD's own client: the systemd image is Running once
// its init runs and its READY=1 shows in the state's boot (berth_instance_boot) and as one
// instance-ready event; a busybox image and a sysvinit Debian start, run commands and stop
// through their own halt signal (SIGPWR), or raw.lxc's lxc.signal.halt, with nothing left behind.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Runtime, type ContainerState } from '#runtime';
import { daemonApi } from '../support/api.js';
import { startDaemon, type Daemon } from '../support/daemon.js';
import { ensureDebianImage, ensureRecipeImage } from '../support/debian-image.js';
import { listen, type EventRecorder } from '../support/events.js';
import { configureLxc, lxcRunner } from '../support/lxc.js';

const MINUTES = 60_000;
const SIGPWR = 30;
const SIGUSR1 = 10;
const SIGRTMIN_3 = 37;

interface Boot {
  init: string;
  ready: boolean;
  ready_at: string | null;
  ready_ms: number | null;
  failed_units: string[] | null;
}
interface StateBody {
  status: string;
  status_code: number;
  pid: number;
  ready_ms: number | null;
  boot: Boot | null;
}

/** Every cgroup hierarchy mounted on the host (v1 controllers and the v2 tree). */
function cgroupRoots(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .filter((fields) => ['cgroup', 'cgroup2'].includes(fields[fields.indexOf('-') + 1] ?? ''))
    .map((fields) => fields[4]!);
}

/** Whether `pid` is a live process (a zombie its parent has yet to reap is not). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('any init: status Running from init on, systemd readiness apart, busybox and sysvinit halt on their signal', () => {
  let d: Daemon;
  let runtime: Runtime;
  let events: EventRecorder;
  const lxc = lxcRunner(() => d, 4 * MINUTES);
  const { removeInstances } = daemonApi(() => d);
  const state = async (name: string) => (await d.api().get(`/1.0/instances/${name}/state`).expect(200)).body.metadata as StateBody;
  const instance = async (name: string) => (await d.api().get(`/1.0/instances/${name}`).expect(200)).body.metadata as { status: string; config: Record<string, string> };
  const lifecycle = (action: string, name: string) =>
    events.events.filter((e) => e.type === 'lifecycle' && e.metadata.action === action && e.metadata.source === `/1.0/instances/${name}`);

  /** Polls the state until `done` holds for it (the boot goes on after the start operation ended). */
  const until = async (name: string, done: (s: StateBody) => boolean, what: string): Promise<StateBody> => {
    let s = await state(name);
    for (let i = 0; i < 600 && !done(s); i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      s = await state(name);
    }
    assert.ok(done(s), `${name}: ${what}; state ${JSON.stringify(s)}`);
    return s;
  };

  /** After a stop: no monitor, no init, no cgroup of the container or its monitor, on any hierarchy. */
  const assertNothingLeft = (running: ContainerState) => {
    assert.equal(alive(running.monitorPid), false, 'the monitor is gone');
    assert.equal(alive(running.pid), false, 'init is gone');
    for (const root of cgroupRoots()) {
      assert.equal(existsSync(join(root, running.cgroup)), false, `${join(root, running.cgroup)} is removed`);
      assert.equal(existsSync(join(root, running.monitorCgroup)), false, `${join(root, running.monitorCgroup)} is removed`);
    }
    assert.equal(existsSync(join(d.dir, 'containers', running.name, 'monitor.sock')), false, 'no control socket');
  };

  before(async () => {
    d = await startDaemon();
    await configureLxc(d);
    runtime = new Runtime({ berthDir: d.dir });
    await lxc('image', 'import', await ensureDebianImage(), '--alias', 'debian/12');
    await lxc('image', 'import', await ensureRecipeImage('busybox'), '--alias', 'busybox');
    await lxc('image', 'import', await ensureRecipeImage('debian-12-sysvinit'), '--alias', 'sysvinit');
    events = await listen(d.socket, 'lifecycle');
  });
  after(async () => {
    events?.close();
    await removeInstances('s1', 'b1', 'v1');
    await d.destroy();
  });

  it('systemd: lxc launch returns with the instance Running; READY=1 then shows in the boot state and as one instance-ready', { timeout: 5 * MINUTES }, async () => {
    await lxc('launch', 'debian/12', 's1');
    const started = await instance('s1');
    assert.equal(started.status, 'Running', 'the start ended once init ran');
    assert.equal((await runtime.state('s1')).init, 'systemd');
    assert.equal(readlinkSync(`/proc/${(await state('s1')).pid}/exe`).split('/').pop(), 'systemd');

    const booted = await until('s1', (s) => s.boot?.ready === true, 'systemd reports READY=1');
    assert.equal(booted.status, 'Running', 'READY=1 does not make the status Ready');
    assert.equal(booted.status_code, 103);
    const boot = booted.boot!;
    assert.equal(boot.init, 'systemd');
    assert.ok(typeof boot.ready_ms === 'number' && boot.ready_ms > 0, JSON.stringify(boot));
    assert.equal(booted.ready_ms, boot.ready_ms, 'the older top-level field says the same');
    const startedAt = (await runtime.state('s1')).startedAt.getTime();
    assert.equal(Date.parse(boot.ready_at!), startedAt + boot.ready_ms!);
    await until('s1', (s) => Array.isArray(s.boot?.failed_units), 'systemctl --failed answers');

    const ready = await events.waitFor((e) => e.metadata.action === 'instance-ready' && e.metadata.source === '/1.0/instances/s1', 30_000);
    assert.equal((ready.metadata.context as { ready_ms: number }).ready_ms, boot.ready_ms);
    assert.equal((await instance('s1')).config['volatile.boot.ready'], String(startedAt), 'the announced boot is recorded');
    assert.equal(lifecycle('instance-started', 's1').length, 1);
    assert.equal(lifecycle('instance-ready', 's1').length, 1);

    const { stdout } = await lxc('list', 's1', '--format', 'csv', '-c', 'ns');
    assert.equal(stdout, 's1,RUNNING\n');
    const { stdout: info } = await lxc('info', 's1');
    assert.match(info, /^Status: RUNNING$/m);
  });

  it('systemd: the announced boot survives a daemon restart (it is not announced again), and the status is never Ready', { timeout: 5 * MINUTES }, async () => {
    const before = (await instance('s1')).config['volatile.boot.ready'];
    events.close();
    await d.stop();
    d = await d.restart();
    events = await listen(d.socket, 'lifecycle');
    const after = await instance('s1');
    assert.equal(after.status, 'Running');
    assert.equal(after.config['volatile.boot.ready'], before);
    assert.equal(after.config['volatile.last_state.ready'], undefined, 'no guest declared itself Ready');
  });

  it('systemd: lxc stop halts it with SIGRTMIN+3; its init powered off', { timeout: 5 * MINUTES }, async () => {
    const running = await runtime.state('s1');
    assert.equal(running.haltSignal, SIGRTMIN_3);
    await lxc('stop', 's1', '--timeout', '60');
    const stopped = await events.waitFor((e) => e.metadata.action === 'instance-stopped' && e.metadata.source === '/1.0/instances/s1');
    assert.deepEqual(stopped.metadata.context, { exit: 'poweroff' });
    assert.equal((await instance('s1')).config['volatile.boot.ready'], undefined, 'cleared at stop');
    assertNothingLeft(running);
  });

  it('busybox: lxc launch starts it Running (no readiness), commands run, and SIGPWR halts it', { timeout: 5 * MINUTES }, async () => {
    await lxc('launch', 'busybox', 'b1');
    const s = await state('b1');
    assert.equal(s.status, 'Running');
    assert.deepEqual(s.boot, { init: 'other', ready: false, ready_at: null, ready_ms: null, failed_units: null });
    assert.equal(readlinkSync(`/proc/${s.pid}/exe`).split('/').pop(), 'busybox');
    const { stdout } = await lxc('exec', 'b1', '--', '/bin/busybox', 'cat', '/proc/1/comm');
    assert.equal(stdout, 'init\n');
    const running = await runtime.state('b1');
    assert.equal(running.init, 'other');
    assert.equal(running.haltSignal, SIGPWR);
    await lxc('stop', 'b1', '--timeout', '30');
    const stopped = await events.waitFor((e) => e.metadata.action === 'instance-stopped' && e.metadata.source === '/1.0/instances/b1');
    assert.deepEqual(stopped.metadata.context, { exit: 'poweroff' }, 'busybox init halted on SIGPWR (reboot(2) in its pid namespace)');
    assert.equal((await instance('b1')).status, 'Stopped');
    assertNothingLeft(running);
    assert.equal(lifecycle('instance-ready', 'b1').length, 0, 'no READY=1 from busybox');
  });

  it('raw.lxc: lxc.signal.halt is the halt signal of the next start; any other line is refused, naming the field', { timeout: 5 * MINUTES }, async () => {
    await assert.rejects(lxc('config', 'set', 'b1', 'raw.lxc', 'lxc.apparmor.profile=unconfined'), (e: { stderr: string }) =>
      e.stderr.includes('Invalid config["raw.lxc"]: Berth takes only lxc.signal.halt in raw.lxc, not "lxc.apparmor.profile"'),
    );
    assert.equal((await instance('b1')).config['raw.lxc'], undefined, 'nothing was changed');
    await lxc('config', 'set', 'b1', 'raw.lxc', 'lxc.signal.halt=SIGUSR1');
    await lxc('start', 'b1');
    const running = await runtime.state('b1');
    assert.equal(running.haltSignal, SIGUSR1);
    await lxc('stop', 'b1', '--timeout', '30');
    const stops = lifecycle('instance-stopped', 'b1');
    assert.equal(stops.length, 2);
    assert.deepEqual(stops[1]!.metadata.context, { exit: 'poweroff' }, 'busybox init halts on SIGUSR1 too');
    assertNothingLeft(running);
  });

  it('sysvinit: starts Running, runs commands, and lxc stop halts it through SIGPWR and its powerwait entry', { timeout: 5 * MINUTES }, async () => {
    await lxc('launch', 'sysvinit', 'v1');
    const s = await state('v1');
    assert.equal(s.status, 'Running');
    assert.equal(s.boot?.init, 'other');
    assert.equal(s.boot?.ready, false);
    const { stdout } = await lxc('exec', 'v1', '--', 'cat', '/proc/1/comm');
    assert.equal(stdout, 'init\n');
    assert.equal(readlinkSync(`/proc/${s.pid}/exe`).split('/').pop(), 'init');
    const running = await runtime.state('v1');
    assert.equal(running.haltSignal, SIGPWR);
    await lxc('stop', 'v1', '--timeout', '120');
    const stopped = await events.waitFor((e) => e.metadata.action === 'instance-stopped' && e.metadata.source === '/1.0/instances/v1');
    assert.deepEqual(stopped.metadata.context, { exit: 'poweroff' }, 'sysvinit ran runlevel 0 and halted (not the kill after the timeout)');
    const log = readFileSync(join(d.dir, 'containers', 'v1', 'console.log'), 'utf8');
    assert.match(log, /Will now halt/, 'the halt script of runlevel 0 ran');
    assertNothingLeft(running);
  });
});
