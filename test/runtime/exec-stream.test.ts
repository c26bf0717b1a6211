// Runtime.execStream against a real booted (unprivileged) debian-12 container: output arrives
// while the command runs, stdin is written through and its end is the command's EOF, a pty
// starts at the requested size and resize() reaches the process as SIGWINCH, signal() reaches
// the command (its process group on a pty), exit codes and killing signals come back, and no
// descriptor of this process is visible inside. Every wait is on a state (a line of output,
// the exit), never on a timing threshold.
import assert from 'node:assert/strict';
import { closeSync, openSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';

import { ContainerNotRunningError, InvalidContainerSpecError, NativeCallError, type ExecStream } from '#runtime';

import { Sandbox } from './helpers.js';

const IDMAP = { hostId: 1_000_000, count: 65_536 };

/** Accumulates a stream's text; `waitFor` resolves once it matches, rejects if it ends first. */
class Collector {
  text = '';
  bytes = 0;
  ended = false;
  private readonly waiters: Array<() => void> = [];
  readonly done: Promise<string>;

  constructor(stream: Readable) {
    this.done = new Promise((resolve, reject) => {
      stream.on('data', (chunk: Buffer) => {
        this.bytes += chunk.length;
        if (this.text.length < 1 << 20) this.text += chunk.toString('utf8');
        this.wake();
      });
      stream.on('end', () => {
        this.ended = true;
        this.wake();
        resolve(this.text);
      });
      stream.on('error', reject);
    });
  }

  waitFor(pattern: RegExp): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (pattern.test(this.text)) return resolve(this.text);
        if (this.ended) return reject(new Error(`stream ended without ${pattern}: ${JSON.stringify(this.text)}`));
        this.waiters.push(check);
      };
      check();
    });
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}

/** Tracks whether `exited` has settled, without racing it against a clock. */
function watchExit(stream: ExecStream): { settled: () => boolean } {
  let settled = false;
  stream.exited.then(
    () => (settled = true),
    () => (settled = true),
  );
  return { settled: () => settled };
}

describe('runtime: streaming exec (execStream)', () => {
  let sandbox: Sandbox;

  before(async () => {
    sandbox = await Sandbox.create();
    const rootfs = await sandbox.rootfs('stream');
    await sandbox.runtime.start({ name: 'stream', rootfs, idmap: IDMAP });
  });

  after(async () => {
    await sandbox.dispose();
  });

  it('delivers output as it is produced, before the command exits', async () => {
    const exec = sandbox.runtime.execStream('stream', ['sh', '-c', 'echo first; sleep 2; echo second']);
    const exit = watchExit(exec);
    const out = new Collector(exec.stdout);
    await out.waitFor(/first\n/);
    assert.equal(exit.settled(), false, 'still running when "first" arrived');
    assert.equal(out.text.includes('second'), false, '"second" not printed yet');
    assert.deepEqual(await exec.exited, { exitCode: 0 });
    assert.equal(await out.done, 'first\nsecond\n');
  });

  it('streams stdin to cat while it runs, and the end of stdin is its EOF', async () => {
    const exec = sandbox.runtime.execStream('stream', ['cat']);
    const exit = watchExit(exec);
    const out = new Collector(exec.stdout);
    exec.stdin.write('one\n');
    await out.waitFor(/^one\n$/);
    exec.stdin.write('two\n');
    await out.waitFor(/^one\ntwo\n$/);
    assert.equal(exit.settled(), false, 'cat waits for more input');
    exec.stdin.end();
    assert.deepEqual(await exec.exited, { exitCode: 0 });
    assert.equal(await out.done, 'one\ntwo\n');
  });

  it('carries large input and output whole (the relay never drops under backpressure)', async () => {
    const input = Buffer.alloc(3 * 1024 * 1024, 'x');
    const counted = sandbox.runtime.execStream('stream', ['wc', '-c']);
    const countOut = new Collector(counted.stdout);
    counted.stdin.end(input);
    assert.deepEqual(await counted.exited, { exitCode: 0 });
    assert.equal((await countOut.done).trim(), String(input.length));

    const produced = sandbox.runtime.execStream('stream', ['head', '-c', '5000000', '/dev/zero']);
    const producedOut = new Collector(produced.stdout);
    produced.stdin.end();
    assert.deepEqual(await produced.exited, { exitCode: 0 });
    await producedOut.done;
    assert.equal(producedOut.bytes, 5_000_000);
  });

  it('keeps stdout and stderr apart, with env, cwd and ids; /dev/stderr opens inside', async () => {
    const exec = sandbox.runtime.execStream(
      'stream',
      ['sh', '-c', 'echo "$BERTH_X $(pwd) $(id -u):$(id -g)"; echo oops > /dev/stderr; exit 5'],
      { env: { BERTH_X: 'y' }, cwd: '/tmp', uid: 1000, gid: 1000 },
    );
    const out = new Collector(exec.stdout);
    const err = new Collector(exec.stderr);
    exec.stdin.end();
    assert.deepEqual(await exec.exited, { exitCode: 5 });
    assert.equal(await out.done, 'y /tmp 1000:1000\n');
    assert.equal(await err.done, 'oops\n');
  });

  it('gives a pty of the initial size, and resize() reaches the process as SIGWINCH with the new size', async () => {
    const script = 'trap \'echo "winch $(stty size)"; kill $! 2>/dev/null; exit 0\' WINCH; echo "start $(stty size)"; sleep 100 & wait';
    const exec = sandbox.runtime.execStream('stream', ['sh', '-c', script], { pty: { rows: 30, cols: 100 } });
    const exit = watchExit(exec);
    const out = new Collector(exec.stdout);
    const err = new Collector(exec.stderr);
    assert.equal(await err.done, '', 'with a pty stderr ends at once');
    await out.waitFor(/start 30 100\r\n/);
    assert.equal(exit.settled(), false, 'the script waits for SIGWINCH');
    exec.resize(50, 132);
    assert.deepEqual(await exec.exited, { exitCode: 0 });
    await out.done;
    assert.match(out.text, /start 30 100\r\n(.|\r\n)*winch 50 132\r\n/);
  });

  it('delivers signal(15) to the command: its TERM trap runs and sets the exit code', async () => {
    const script = "trap 'echo got TERM; kill $! 2>/dev/null; exit 3' TERM; echo ready; sleep 100 & wait";
    const exec = sandbox.runtime.execStream('stream', ['sh', '-c', script]);
    const out = new Collector(exec.stdout);
    await out.waitFor(/ready\n/);
    exec.signal(15);
    assert.deepEqual(await exec.exited, { exitCode: 3 });
    assert.equal(await out.done, 'ready\ngot TERM\n');
  });

  it('on a pty, signal() goes to the command\'s process group (its children too)', async () => {
    /* The child prints "ready" itself, so it exists when the signal is sent. */
    const script = "trap 'echo sh got INT' INT; sh -c 'echo ready; exec sleep 100'; echo \"child ended $?\"";
    const exec = sandbox.runtime.execStream('stream', ['sh', '-c', script], { pty: { rows: 24, cols: 80 } });
    const out = new Collector(exec.stdout);
    await out.waitFor(/ready\r\n/);
    exec.signal(2);
    assert.deepEqual(await exec.exited, { exitCode: 0 });
    await out.done;
    assert.match(out.text, /sh got INT\r\nchild ended 130\r\n/, 'the child, in the same group, was interrupted too');
  });

  it('reports a command killed by signal(9) with signal 9', async () => {
    const exec = sandbox.runtime.execStream('stream', ['sleep', '100']);
    const exit = watchExit(exec);
    const out = new Collector(exec.stdout);
    exec.signal(9);
    assert.deepEqual(await exec.exited, { exitCode: 137, signal: 9 });
    assert.equal(exit.settled(), true);
    assert.equal(await out.done, '');
  });

  it('leaks no descriptor of this process in, with pipes or a pty', async () => {
    const canary = openSync('/etc/hostname', 'r');
    try {
      for (const pty of [undefined, { rows: 24, cols: 80 }]) {
        const exec = sandbox.runtime.execStream('stream', ['sh', '-c', 'exec ls /proc/self/fd'], { pty });
        const out = new Collector(exec.stdout);
        exec.stdin.end();
        assert.deepEqual(await exec.exited, { exitCode: 0 });
        assert.deepEqual((await out.done).trim().split(/\s+/).sort(), ['0', '1', '2', '3'], `pty: ${pty !== undefined}`);
      }
      const targets = sandbox.runtime.execStream('stream', ['sh', '-c', 'exec ls -l /proc/self/fd']);
      const out = new Collector(targets.stdout);
      targets.stdin.end();
      assert.deepEqual(await targets.exited, { exitCode: 0 });
      const listing = await out.done;
      assert.match(listing, / 0 -> pipe:\[\d+\]\n/, "stdin is the helper's pipe, not this process's socket");
      assert.equal(listing.includes('hostname'), false, 'the canary is not among the descriptors');
    } finally {
      closeSync(canary);
    }
  });

  it('rejects exited with typed errors: a missing command, a container that is not running', async () => {
    const missing = sandbox.runtime.execStream('stream', ['/no/such/command']);
    await assert.rejects(missing.exited, (error: unknown) => {
      assert.ok(error instanceof NativeCallError);
      assert.equal(error.syscall, 'execve');
      assert.equal(error.errnoCode, 'ENOENT');
      return true;
    });
    await assert.rejects(sandbox.runtime.execStream('ghost', ['true']).exited, ContainerNotRunningError);
    assert.throws(() => sandbox.runtime.execStream('stream', []), InvalidContainerSpecError);
    const plain = sandbox.runtime.execStream('stream', ['true']);
    assert.throws(() => plain.resize(10, 10), InvalidContainerSpecError);
    assert.throws(() => plain.signal(0), InvalidContainerSpecError);
    assert.deepEqual(await plain.exited, { exitCode: 0 });
  });

  it('leaves exec() as it was: collected output, exit codes, a pty of fixed size', async () => {
    assert.equal((await sandbox.runtime.exec('stream', ['sh', '-c', 'exit 7'])).exitCode, 7);
    assert.equal((await sandbox.runtime.exec('stream', ['cat'], { input: 'hello\n' })).stdout, 'hello\n');
    const tty = await sandbox.runtime.exec('stream', ['sh', '-c', 'stty size'], { pty: { rows: 30, cols: 100 } });
    assert.equal(tty.stdout, '30 100\r\n');
  });
});

describe('runtime: streaming exec in a privileged container (no user namespace)', () => {
  let sandbox: Sandbox;

  before(async () => {
    sandbox = await Sandbox.create();
    const rootfs = await sandbox.rootfs('plain');
    await sandbox.runtime.start({ name: 'plain', rootfs, idmap: null });
  });

  after(async () => {
    await sandbox.dispose();
  });

  it('runs a non-root command on pipes it owns, and a pty session for it', async () => {
    const exec = sandbox.runtime.execStream('plain', ['sh', '-c', 'id -u; cat; echo oops > /dev/stderr'], { uid: 1000, gid: 1000 });
    const out = new Collector(exec.stdout);
    const err = new Collector(exec.stderr);
    exec.stdin.end('piped\n');
    assert.deepEqual(await exec.exited, { exitCode: 0 });
    assert.equal(await out.done, '1000\npiped\n');
    assert.equal(await err.done, 'oops\n');

    const typed = sandbox.runtime.execStream('plain', ['sh', '-c', 'read line; echo "got $line"'], {
      uid: 1000,
      gid: 1000,
      pty: { rows: 24, cols: 80 },
    });
    const typedOut = new Collector(typed.stdout);
    typed.stdin.write('hello\n');
    assert.deepEqual(await typed.exited, { exitCode: 0 });
    await typedOut.done;
    assert.match(typedOut.text, /got hello\r\n/);
  });

  it('gives exec() with a non-root uid the same (it used to fail dropping capabilities)', async () => {
    assert.equal((await sandbox.runtime.exec('plain', ['id', '-u'], { uid: 1000, gid: 1000 })).stdout, '1000\n');
  });
});
