import assert from 'node:assert/strict';
import type { Daemon } from './daemon.js';

/** An API answer that may have started an operation: 202, with the operation's URL in `body.operation`. */
export interface Started {
  status: number;
  body: { operation?: string };
}

/** An operation as GET /1.0/operations/<id>/wait answers it (its metadata is what the operation made). */
export interface Operation {
  id: string;
  status: string;
  err: string;
  /** Of each operation's own shape (an exec's output and return, an image's fingerprint, ...). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  metadata: any;
}

/** What `exec` answers: the command's exit code and its recorded stdout and stderr. */
export interface Recorded {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Helpers for suites that drive a daemon through its REST API: waiting for the operations it
 * starts, cleaning instances up, and exec and addresses in running instances. `daemon()` is read at
 * each call, as suites start the daemon in `before` and replace it after a restart.
 * `timeoutSeconds` is how long an operation is waited for (the `?timeout=` of /wait).
 */
export function daemonApi(daemon: () => Daemon, { timeoutSeconds = 180 }: { timeoutSeconds?: number } = {}) {
  /** Asserts that `res` started an operation (202) and waits for it to end; answers it whether it succeeded or not. */
  const wait = async (res: Started): Promise<Operation> => {
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return (await daemon().api().get(`${res.body.operation}/wait?timeout=${timeoutSeconds}`).expect(200)).body.metadata;
  };

  /** As `wait`, and asserts that the operation succeeded (its `err` as the message). */
  const finish = async (res: Started): Promise<Operation> => {
    const op = await wait(res);
    assert.equal(op.status, 'Success', op.err);
    return op;
  };

  /** Waits for the operation `res` started, if it started one, whatever its outcome: for cleanup in `after`. */
  const settle = async (res: Started): Promise<void> => {
    if (res.status === 202) await daemon().api().get(`${res.body.operation}/wait`);
  };

  /** Stops (by force) and deletes each instance, as far as it exists: for cleanup in `after`. */
  const removeInstances = async (...names: string[]): Promise<void> => {
    for (const name of names) {
      await settle(await daemon().api().put(`/1.0/instances/${name}/state`).send({ action: 'stop', force: true }));
      await settle(await daemon().api().delete(`/1.0/instances/${name}`));
    }
  };

  /**
   * Runs `command` in instance `name` through POST /1.0/instances/<name>/exec with record-output,
   * asserts the exec operation succeeded, and answers the exit code and both recorded outputs.
   */
  const exec = async (name: string, command: string[]): Promise<Recorded> => {
    const op = await finish(await daemon().api().post(`/1.0/instances/${name}/exec`).send({ command, 'record-output': true }));
    const output = async (fd: string) =>
      (
        await daemon()
          .api()
          .get(op.metadata.output[fd])
          .buffer(true)
          .parse((r, cb) => {
            let text = '';
            r.on('data', (c: Buffer) => (text += c.toString()));
            r.on('end', () => cb(null, text));
          })
      ).body as string;
    return { code: op.metadata.return as number, stdout: await output('1'), stderr: await output('2') };
  };

  /**
   * The first address of nic `ifname` of instance `name` as GET /1.0/instances/<name>/state
   * reports it, asked every 200 ms until there is one (DHCP may take a while); throws after 300 tries.
   */
  const address = async (name: string, ifname = 'eth0'): Promise<string> => {
    for (let i = 0; i < 300; i++) {
      const s = (await daemon().api().get(`/1.0/instances/${name}/state`).expect(200)).body.metadata;
      const a = s.network?.[ifname]?.addresses?.[0]?.address;
      if (a) return a;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${name} got no address on ${ifname}`);
  };

  /**
   * Waits for systemd in instance `name` to report READY=1, as its state's `boot` says (a start
   * ends once init runs; what a test does next with systemd needs it booted).
   */
  const booted = async (name: string, timeoutMs = 120_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    let boot: { ready?: boolean } | null = null;
    while (Date.now() < deadline) {
      boot = (await daemon().api().get(`/1.0/instances/${name}/state`).expect(200)).body.metadata.boot;
      if (boot?.ready) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.fail(`${name}: systemd did not report READY=1 within ${timeoutMs / 1000}s (boot ${JSON.stringify(boot)})`);
  };

  return { wait, finish, settle, removeInstances, exec, address, booted };
}

/** An instance's config without the server's `volatile.*` keys (a create gives e.g. `volatile.cloud-init.instance-id`). */
export function ownConfig(config: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(config).filter(([key]) => !key.startsWith('volatile.')));
}
