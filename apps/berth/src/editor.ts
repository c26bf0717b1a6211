// Editing text the way `lxc ... edit` does: in $EDITOR on a private temporary file when the user
// is at a terminal, or read whole from standard input when they pipe it in.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { ApiError } from './client.js';
import { UsageError, errorLine } from './errors.js';

/** Open `text` in the editor and return what the user saved. */
export async function editText(editor: string, text: string, fileName: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-edit-'));
  const file = join(dir, fileName);
  try {
    await writeFile(file, text, { mode: 0o600 });
    // Through the shell, as git does, so that EDITOR="code --wait" works.
    const result = spawnSync('/bin/sh', ['-c', `${editor} "$1"`, editor, file], { stdio: 'inherit' });
    if (result.error) throw new UsageError(`cannot run editor "${editor}": ${result.error.message}`);
    if (result.status !== 0) {
      throw new UsageError(`editor "${editor}" exited with status ${result.status ?? result.signal}`);
    }
    return await readFile(file, 'utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Let the user edit `text` until `apply` accepts it. When it is refused, the reason is shown and
 * the editor reopens on the user's own text, as lxc does; Ctrl-C abandons the change.
 * Saving the text unchanged applies nothing.
 */
export async function editUntilAccepted(
  editor: string,
  text: string,
  fileName: string,
  apply: (edited: string) => Promise<void>,
): Promise<void> {
  let current = text;
  for (;;) {
    const edited = await editText(editor, current, fileName);
    if (edited === current && current === text) return;
    try {
      await apply(edited);
      return;
    } catch (err) {
      if (!isCorrectable(err)) throw err;
      process.stderr.write(`${errorLine(err)}\n`);
      current = edited;
      await confirmReopen();
    }
  }
}

/** Refusals the user can fix in the editor: bad YAML, or a 400 naming the bad field. */
function isCorrectable(err: unknown): boolean {
  return err instanceof UsageError || (err instanceof ApiError && err.status === 400);
}

async function confirmReopen(): Promise<void> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  const aborted = new Promise<never>((_, reject) =>
    prompt.once('SIGINT', () => reject(new UsageError('edit abandoned, nothing changed'))),
  );
  try {
    await Promise.race([
      prompt.question('Press enter to open the editor again or Ctrl-C to abandon the change '),
      aborted,
    ]);
  } finally {
    prompt.close();
  }
}

/** All of standard input as text. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
