// The CLI's whole reading of the environment, done once at start.
import { join } from 'node:path';

export const DEFAULT_BERTH_DIR = '/var/lib/berth';

export interface CliEnvironment {
  /** berthd's API socket, `$BERTH_DIR/unix.socket`. */
  socketPath: string;
  /** The command `profile edit` runs on a file: $EDITOR, then $VISUAL, then vi. */
  editor: string;
  /** Whether standard input is a terminal (otherwise `profile edit` reads YAML from it). */
  interactive: boolean;
}

export function readEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  stdinIsTTY = process.stdin.isTTY === true,
): CliEnvironment {
  const berthDir = env.BERTH_DIR || DEFAULT_BERTH_DIR;
  return {
    socketPath: join(berthDir, 'unix.socket'),
    editor: env.EDITOR || env.VISUAL || 'vi',
    interactive: stdinIsTTY,
  };
}
