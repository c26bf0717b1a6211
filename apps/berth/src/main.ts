#!/usr/bin/env node
// berth: the command line client of berthd.
import { BerthClient } from './client.js';
import { readEnvironment } from './environment.js';
import { errorLine, ExitStatus } from './errors.js';
import { buildProgram } from './program.js';

// `berth profile list | head` closes the pipe early; that is not a failure.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const environment = readEnvironment();
const program = buildProgram({
  client: new BerthClient(environment.socketPath),
  environment,
  print: (text) => {
    if (text !== '') process.stdout.write(`${text}\n`);
  },
  warn: (text) => process.stderr.write(`${text}\n`),
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof ExitStatus) {
    process.exitCode = err.status;
  } else {
    process.stderr.write(`${errorLine(err)}\n`);
    process.exitCode = 1;
  }
}
