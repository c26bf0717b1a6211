import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Named points inside long operations where the fault-injection suite can hold an operation so
 * that a kill lands exactly there. Off unless BERTH_TEST_HOOKS=true; then, when the file
 * `$BERTH_DIR/test-hooks/<step>` exists as the operation reaches `<step>`, the operation writes
 * `<step>.reached` (holding the daemon's pid) and waits until the file is removed.
 */
export class TestHooks {
  constructor(private readonly dir: string | null) {}

  static off(): TestHooks {
    return new TestHooks(null);
  }

  static forConfig(config: { BERTH_DIR: string; BERTH_TEST_HOOKS: boolean }): TestHooks {
    return new TestHooks(config.BERTH_TEST_HOOKS ? join(config.BERTH_DIR, 'test-hooks') : null);
  }

  async reach(step: string): Promise<void> {
    if (this.dir === null) return;
    const gate = join(this.dir, step);
    if (!existsSync(gate)) return;
    await writeFile(`${gate}.reached`, String(process.pid));
    while (existsSync(gate)) await new Promise((r) => setTimeout(r, 50));
  }
}
