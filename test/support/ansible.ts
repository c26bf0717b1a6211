import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadRecipe } from '../../libs/images/src/recipes/recipe-builder.js';
import { packRecipeImage } from '../../libs/images/src/recipes/recipe-image.js';
import type { Daemon } from './daemon.js';
import { lxcEnv } from './lxc.js';

const exec = promisify(execFile);

/** test/fixtures/ansible-target (from dist/test/support/, three levels below the repository). */
const RECIPE = fileURLToPath(new URL('../../../test/fixtures/ansible-target', import.meta.url));

/**
 * The debian-12 image plus Python 3 (Ansible's modules run as Python programs inside the managed
 * host), as a unified LXD image tarball: built on the cached debian-12 tree, then cached itself.
 */
export async function ensureAnsibleTargetImage(): Promise<string> {
  return packRecipeImage(await loadRecipe(RECIPE));
}

/** One task's result for one host, as the ansible.posix.json callback reports it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TaskResult = Record<string, any> & { task: string; host: string; changed?: boolean; failed?: boolean };

export interface PlaybookRun {
  code: number;
  /** Every task's result, host by host, in the order they ran. */
  results: TaskResult[];
  stderr: string;
}

/**
 * Where a suite's playbooks, inventories and Ansible's own files go: `<daemon dir>/ansible`, with
 * HOME the daemon's directory (where lxc's remote config is, see configureLxc), so the lxd
 * connection plugin's `lxc exec`/`lxc file` reach the daemon through LXD_DIR.
 */
export function ansibleEnv(d: Daemon): NodeJS.ProcessEnv {
  return {
    ...lxcEnv(d),
    ANSIBLE_HOST_KEY_CHECKING: 'False',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_RETRY_FILES_ENABLED: 'False',
    ANSIBLE_LOCALHOST_WARNING: 'False',
    ANSIBLE_GATHERING: 'explicit',
    // Debian's interpreter, on the host and in the container (no discovery, no warning).
    ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3',
    ANSIBLE_STDOUT_CALLBACK: 'ansible.posix.json',
    ANSIBLE_LOCAL_TEMP: join(d.dir, 'ansible', 'tmp'),
  };
}

/** Writes `files` (name → text) into `<daemon dir>/ansible` and answers that directory. */
export async function ansibleFiles(d: Daemon, files: Record<string, string>): Promise<string> {
  const dir = join(d.dir, 'ansible');
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

/**
 * Runs `ansible-playbook -i <inventory> <playbook>` (files written by ansibleFiles) in that
 * directory, and answers its exit code and each task's result. Does not reject on a failed task:
 * the caller asserts on the results.
 */
export async function ansiblePlaybook(d: Daemon, playbook: string, inventory = 'localhost,'): Promise<PlaybookRun> {
  const dir = join(d.dir, 'ansible');
  const run = await exec('ansible-playbook', ['-i', inventory, playbook], { cwd: dir, env: ansibleEnv(d), timeout: 600_000, maxBuffer: 64 << 20 }).then(
    (r) => ({ ...r, code: 0 }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
  let report: { plays: Array<{ tasks: Array<{ task: { name: string }; hosts: Record<string, Record<string, unknown>> }> }> };
  try {
    report = JSON.parse(run.stdout);
  } catch {
    throw new Error(`ansible-playbook ${playbook} exited with ${run.code}: ${run.stdout}${run.stderr}`);
  }
  const results = report.plays.flatMap((p) => p.tasks.flatMap((t) => Object.entries(t.hosts).map(([host, r]) => ({ ...r, task: t.task.name, host }))));
  return { code: run.code, results, stderr: run.stderr };
}

/** `ansible-inventory -i <inventory> --list`, parsed. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function ansibleInventory(d: Daemon, inventory: string): Promise<any> {
  const dir = join(d.dir, 'ansible');
  const { stdout } = await exec('ansible-inventory', ['-i', inventory, '--list'], {
    cwd: dir,
    // A source no plugin could read is an error, not an empty inventory.
    env: { ...ansibleEnv(d), ANSIBLE_INVENTORY_UNPARSED_FAILED: 'True', ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED: 'True' },
    timeout: 120_000,
  });
  return JSON.parse(stdout);
}
