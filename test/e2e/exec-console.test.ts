// exec and console over websockets, as LXD serves them: the real `lxc` client (Debian's
// lxd-client 5.0.2) and raw websocket clients against berthd, with a real container.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { runBerth } from '../support/cli.js';
import { BERTH, startDaemon, type Daemon } from '../support/daemon.js';
import { ensureDebianImage } from '../support/debian-image.js';
import { configureLxc, lxcEnv } from '../support/lxc.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('exec and console websockets (lxc client, real container)', () => {
  let d: Daemon;
  const env = () => ({ ...lxcEnv(d), TERM: 'xterm' });
  /** Runs lxc with `input` on a pipe as its stdin (no terminal). */
  const lxc = (args: string[], input = ''): Promise<Run> =>
    new Promise((resolve, reject) => {
      const child = execFile('lxc', args, { env: env(), timeout: 120_000 }, (err, stdout, stderr) => {
        if (err && typeof (err as { code?: unknown }).code !== 'number') return reject(err);
        resolve({ code: child.exitCode, stdout, stderr });
      });
      child.stdin!.end(input);
    });
  const socketUrl = (path: string) => `ws+unix://${d.socket}:${path}`;
  const connect = (operation: string, secret: string) =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(socketUrl(`/1.0/operations/${operation}/websocket?secret=${secret}`));
      ws.once('open', () => resolve(ws));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
  const collect = (ws: WebSocket) =>
    new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      ws.on('message', (data, binary) => binary && chunks.push(data as Buffer));
      ws.on('close', () => resolve(Buffer.concat(chunks)));
    });
  const waitOp = async (id: string) => (await d.api().get(`/1.0/operations/${id}/wait?timeout=60`).expect(200)).body.metadata;

  before(async () => {
    d = await startDaemon();
    await configureLxc(d);
    const imported = await lxc(['image', 'import', await ensureDebianImage(), '--alias', 'debian/12']);
    assert.equal(imported.code, 0, imported.stderr);
    const launched = await lxc(['launch', 'debian/12', 'c1']);
    assert.equal(launched.code, 0, launched.stderr);
  });
  after(async () => {
    await d.destroy();
  });

  it('lxc exec: stdout and stderr apart, the exit code is lxc\'s', async () => {
    const r = await lxc(['exec', 'c1', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.deepEqual(r, { code: 3, stdout: 'out\n', stderr: 'err\n' });
  });

  it('lxc exec streams stdin (echo hi | lxc exec c1 -- cat), with --env', async () => {
    assert.deepEqual(await lxc(['exec', 'c1', '--', 'cat'], 'hi\n'), { code: 0, stdout: 'hi\n', stderr: '' });
    const big = 'x'.repeat(300_000);
    const r = await lxc(['exec', 'c1', '--', 'wc', '-c'], big);
    assert.equal(r.stdout.trim(), '300000');
    const e = await lxc(['exec', 'c1', '--env', 'GREETING=hello', '--', 'sh', '-c', 'echo "$GREETING $(pwd) $(id -u)"']);
    assert.deepEqual(e, { code: 0, stdout: 'hello /root 0\n', stderr: '' });
  });

  it('lxc exec -t runs the command on a pty (lxc itself under script(1) for a terminal)', async () => {
    const r = await new Promise<Run>((resolve) => {
      execFile('script', ['-qec', 'lxc exec c1 -t -- sh -c "tty; stty size; exit 4"', '/dev/null'], { env: env(), timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
      );
    });
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stdout, /^\/dev\/pts\/\d+\r?$/m);
  });

  it('lxc exec forwards SIGTERM to the command', async () => {
    const child = spawn('lxc', ['exec', 'c1', '--', 'sh', '-c', 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.1; done'], { env: env() });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stdin.end();
    while (!out.includes('ready')) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.on('exit', r));
    assert.match(out, /got-term/);
    assert.equal(code, 7);
  });

  it('exec over the raw API: secrets once, never listed, a wrong one refused, signal and exit code', async () => {
    const res = await d.api().post('/1.0/instances/c1/exec').send({ command: ['sh', '-c', 'read line; echo "got $line"; echo warn >&2; exit 9'], 'wait-for-websocket': true, interactive: false }).expect(202);
    const op = res.body.metadata;
    assert.equal(op.class, 'websocket');
    const fds = op.metadata.fds as Record<string, string>;
    assert.deepEqual(Object.keys(fds).sort(), ['0', '1', '2', 'control']);
    for (const path of ['/1.0/operations?recursion=1', `/1.0/operations/${op.id}`]) {
      const text = (await d.api().get(path).expect(200)).text;
      for (const secret of Object.values(fds)) assert.ok(!text.includes(secret), `${path} shows a secret`);
    }
    await assert.rejects(connect(op.id, 'f'.repeat(64)), /HTTP 403/);
    const control = await connect(op.id, fds.control!);
    const stdin = await connect(op.id, fds['0']!);
    const stdout = await connect(op.id, fds['1']!);
    await assert.rejects(connect(op.id, fds['1']!), /HTTP 403/);
    const stderr = await connect(op.id, fds['2']!);
    const [out, err] = [collect(stdout), collect(stderr)];
    stdin.send(Buffer.from('line one\n'));
    stdin.send('');
    assert.equal((await out).toString(), 'got line one\n');
    assert.equal((await err).toString(), 'warn\n');
    const done = await waitOp(op.id);
    assert.equal(done.status, 'Success');
    assert.deepEqual(done.metadata, { return: 9 });
    control.close();

    const killed = (await d.api().post('/1.0/instances/c1/exec').send({ command: ['sleep', '600'], 'wait-for-websocket': true }).expect(202)).body.metadata;
    const socks = await Promise.all(['control', '0', '1', '2'].map((fd) => connect(killed.id, killed.metadata.fds[fd])));
    socks[0]!.send(JSON.stringify({ command: 'signal', signal: 9 }));
    assert.deepEqual((await waitOp(killed.id)).metadata, { return: 137 });
  });

  it('an unused session times out and its secrets are void', async () => {
    const op = (await d.api().post('/1.0/instances/c1/exec').send({ command: ['touch', '/tmp/never'], 'wait-for-websocket': true }).expect(202)).body.metadata;
    const done = await waitOp(op.id);
    assert.equal(done.status, 'Failure');
    assert.match(done.err, /Timed out waiting for websockets to connect/);
    await assert.rejects(connect(op.id, op.metadata.fds['0']), /HTTP 403/);
    assert.equal((await lxc(['exec', 'c1', '--', 'test', '-e', '/tmp/never'])).code, 1);
  });

  it('interactive exec over the API: a pty on fd 0, window-resize on control', async () => {
    const op = (await d.api().post('/1.0/instances/c1/exec').send({ command: ['sh'], 'wait-for-websocket': true, interactive: true, width: 100, height: 30 }).expect(202)).body.metadata;
    assert.deepEqual(Object.keys(op.metadata.fds).sort(), ['0', 'control']);
    const control = await connect(op.id, op.metadata.fds.control);
    const tty = await connect(op.id, op.metadata.fds['0']);
    const output = collect(tty);
    let seen = '';
    tty.on('message', (data) => (seen += data.toString()));
    tty.send(Buffer.from('stty size\n'));
    while (!/30 100/.test(seen)) await new Promise((r) => setTimeout(r, 50));
    control.send(JSON.stringify({ command: 'window-resize', args: { width: '120', height: '40' } }));
    await new Promise((r) => setTimeout(r, 200));
    tty.send(Buffer.from('stty size; exit 5\n'));
    assert.match((await output).toString(), /40 120/);
    assert.deepEqual((await waitOp(op.id)).metadata, { return: 5 });
  });

  it('lxc console --show-log shows the boot output; DELETE clears the log', async () => {
    // lxc checks for the "console" API extension first.
    const r = await lxc(['console', 'c1', '--show-log']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /systemd/);
    const raw = await d.api().get('/1.0/instances/c1/console').expect(200);
    assert.match(raw.headers['content-type'], /octet-stream/);
    await d.api().delete('/1.0/instances/c1/console').expect(200);
    assert.equal((await d.api().get('/1.0/instances/c1/console').buffer(true).expect(200)).body.length, 0);
  });

  it('attaches to the console (two clients at once), a newline gets a getty prompt, detaching leaves it running', async () => {
    const attach = async () => {
      const op = (await d.api().post('/1.0/instances/c1/console').send({ type: 'console', width: 80, height: 24 }).expect(202)).body.metadata;
      assert.deepEqual(Object.keys(op.metadata.fds).sort(), ['0', 'control']);
      const control = await connect(op.id, op.metadata.fds.control);
      const data = await connect(op.id, op.metadata.fds['0']);
      let seen = '';
      data.on('message', (chunk) => (seen += chunk.toString()));
      return { op, control, data, seen: () => seen };
    };
    const [a, b] = [await attach(), await attach()];
    a.data.send(Buffer.from('\n'));
    for (let i = 0; i < 200 && !(/login:/.test(a.seen()) && /login:/.test(b.seen())); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(a.seen(), /login:/);
    assert.match(b.seen(), /login:/);
    a.control.close();
    b.data.close();
    assert.equal((await waitOp(a.op.id)).status, 'Success');
    assert.equal((await waitOp(b.op.id)).status, 'Success');
    assert.match((await d.api().get('/1.0/instances/c1/state').expect(200)).body.metadata.status, /^(Running|Ready)$/);
  });

  it('berth exec: pipes without a terminal (stdin streamed, stderr apart, exit code kept), --env/--cwd/--user', async () => {
    const berth = (args: string[], input?: string) => runBerth(args, { env: d.env, input, timeoutMs: 60_000 });
    assert.deepEqual(await berth(['exec', 'c1', '--', 'sh', '-c', 'cat; echo err >&2; exit 3'], 'piped in\n'), { code: 3, stdout: 'piped in\n', stderr: 'err\n' });
    const r = await berth(['exec', 'c1', '--env', 'GREETING=hi', '--cwd', '/tmp', '--user', '65534', '--group', '65534', '--', 'sh', '-c', 'echo "$GREETING $(pwd) $(id -u):$(id -g)"; [ -t 0 ] || echo no-tty']);
    assert.deepEqual(r, { code: 0, stdout: 'hi /tmp 65534:65534\nno-tty\n', stderr: '' });
  });

  it('berth exec gets a pty when stdin is a terminal (under script(1)); berth console --show-log', async () => {
    const r = await new Promise<Run>((resolve) => {
      execFile('script', ['-qec', `${process.execPath} ${BERTH} exec c1 -- sh -c "tty; exit 6"`, '/dev/null'], { env: { ...d.env, TERM: 'xterm' }, timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
      );
    });
    assert.equal(r.code, 6, r.stdout);
    assert.match(r.stdout, /^\/dev\/pts\/\d+\r?$/m);
    const log = await runBerth(['console', 'c1', '--show-log'], { env: d.env, timeoutMs: 60_000 });
    assert.equal(log.code, 0, log.stderr);
    assert.match(log.stdout, /login:/);
  });

  it('exec and console in a stopped instance are 400s and start nothing', async () => {
    assert.equal((await lxc(['stop', 'c1'])).code, 0);
    const before = (await d.api().get('/1.0/operations?recursion=1').expect(200)).body.metadata;
    const exec = await d.api().post('/1.0/instances/c1/exec').send({ command: ['true'], 'wait-for-websocket': true }).expect(400);
    assert.equal(exec.body.error, 'Instance "c1" is not running');
    await d.api().post('/1.0/instances/c1/console').send({ type: 'console' }).expect(400);
    assert.deepEqual((await d.api().get('/1.0/operations?recursion=1').expect(200)).body.metadata, before);
    const r = await lxc(['exec', 'c1', '--', 'true']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not running/);
  });
});
