import assert from 'node:assert/strict';
import net from 'node:net';

/** The first of a free run of `count` ports on the host's loopback (held while probed, then let go). */
export async function freePorts(count: number): Promise<number> {
  for (;;) {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const first = (probe.address() as net.AddressInfo).port;
    const held = [probe];
    let ok = first + count <= 65535;
    for (let port = first + 1; port < first + count && ok; port++) {
      const s = net.createServer();
      ok = await new Promise<boolean>((resolve) => {
        s.once('error', () => resolve(false));
        s.listen(port, '127.0.0.1', () => resolve(true));
      });
      if (ok) held.push(s);
    }
    await Promise.all(held.map((s) => new Promise((resolve) => s.close(resolve))));
    if (ok) return first;
  }
}

/** A free port on the host's loopback. */
export function freePort(): Promise<number> {
  return freePorts(1);
}

/** Connects, sends `payload`, half-closes, and collects the answer until the other side closes ('' if it cannot connect). */
export function exchange(options: net.NetConnectOpts, payload: string): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const socket = net.connect(options, () => socket.end(payload));
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(text));
  });
}

/**
 * A server in a container may still be starting (or the container booting): `exchange` again,
 * every 200 ms for up to `attempts` tries, until it answers `expected`; then asserts the last answer.
 */
export async function answers(options: net.NetConnectOpts, payload: string, expected: string, attempts = 150): Promise<void> {
  let last = '';
  for (let i = 0; i < attempts; i++) {
    last = await exchange(options, payload);
    if (last === expected) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.equal(last, expected);
}
