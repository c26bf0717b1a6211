import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Daemon } from './daemon.js';

const exec = promisify(execFile);

/** Debian's interpreter, which has Debian's python3-pylxd (a python3 earlier in PATH may not). */
export const PYTHON = '/usr/bin/python3';

let scripts = 0;

/**
 * Runs `body` as a python3 script (written into the daemon's directory) that drives `d` with
 * pylxd (Debian's python3-pylxd 2.2.10), unchanged. The script starts with `client`, a
 * `pylxd.Client()` on the daemon's Unix socket (pylxd finds it from LXD_DIR: 2.2.10 takes a
 * socket path as `endpoint` only when it is a regular file), and `out(value)`, which prints its
 * answer as JSON. Answers the last value printed; rejects with the traceback when it fails.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function pylxd(d: Daemon, body: string, timeoutMs = 300_000): Promise<any> {
  const file = join(d.dir, `pylxd-${++scripts}.py`);
  const prelude = ['import json', 'import pylxd', 'client = pylxd.Client()', 'def out(value):', '    print(json.dumps(value), flush=True)', ''];
  await writeFile(file, [...prelude, dedent(body)].join('\n'));
  const env = { PATH: process.env.PATH, HOME: d.dir, LXD_DIR: d.dir, PYTHONDONTWRITEBYTECODE: '1' };
  try {
    const { stdout } = await exec(PYTHON, [file], { env, timeout: timeoutMs });
    const lines = stdout.trim().split('\n');
    return JSON.parse(lines[lines.length - 1]!);
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`pylxd script ${file} failed: ${e.stderr || e.message}`);
  }
}

/** `text` without the indentation its lines share (scripts are written indented in the tests). */
function dedent(text: string): string {
  const lines = text.replace(/^\n/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.match(/^ */)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}
