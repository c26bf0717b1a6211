// berth operation list|show|wait|delete
import { InvalidArgumentError, type Command } from 'commander';
import { isFinalStatus, OPERATION_SUCCESS, type Operation, type OperationsByStatus } from '../api.js';
import { formatOption, segment, type Cli, type FormatOptions } from '../cli.js';
import { OperationFailedError } from '../client.js';
import { UsageError } from '../errors.js';
import { renderDocument, renderList, type Column } from '../format.js';

const operationPath = (id: string) => `/1.0/operations/${segment(id)}`;

export const OPERATION_COLUMNS: readonly Column<Operation>[] = [
  { header: 'ID', value: (op) => op.id },
  { header: 'CLASS', value: (op) => op.class },
  { header: 'DESCRIPTION', value: (op) => op.description },
  { header: 'STATUS', value: (op) => op.status },
  { header: 'CANCELABLE', value: (op) => (op.may_cancel ? 'YES' : 'NO') },
  { header: 'CREATED', value: (op) => op.created_at },
];

/** The operations of every status group, oldest first. */
export function flattenOperations(byStatus: OperationsByStatus | null): Operation[] {
  return Object.values(byStatus ?? {})
    .flatMap((operations) => operations ?? [])
    .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
}

export function parseSeconds(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number of seconds');
  return Number(value);
}

export function registerOperationCommands(program: Command, cli: Cli): void {
  const operation = program.command('operation').description('Manage background operations');

  operation
    .command('list')
    .alias('ls')
    .description('List operations')
    .addOption(formatOption('table'))
    .action(async ({ format }: FormatOptions) => {
      const byStatus = await cli.client.get<OperationsByStatus | null>('/1.0/operations?recursion=1');
      cli.print(renderList(flattenOperations(byStatus), OPERATION_COLUMNS, format));
    });

  operation
    .command('show')
    .description('Show an operation')
    .argument('<id>')
    .addOption(formatOption('yaml'))
    .action(async (id: string, { format }: FormatOptions) => {
      cli.print(renderDocument(await cli.client.get<Operation>(operationPath(id)), format));
    });

  operation
    .command('wait')
    .description('Wait for an operation to end, print it, and fail if it did not succeed')
    .argument('<id>')
    .option('-t, --timeout <seconds>', 'give up after this many seconds', parseSeconds)
    .addOption(formatOption('yaml'))
    .action(async (id: string, { timeout, format }: FormatOptions & { timeout?: number }) => {
      const result = await cli.client.waitOperation(id, timeout);
      cli.print(renderDocument(result, format));
      if (!isFinalStatus(result.status_code)) {
        throw new UsageError(`operation ${id} is still ${result.status} after ${timeout} seconds`);
      }
      if (result.status_code !== OPERATION_SUCCESS) throw new OperationFailedError(result);
    });

  operation
    .command('delete')
    .alias('rm')
    .description('Cancel an operation')
    .argument('<id>')
    .action(async (id: string) => {
      await cli.client.send('DELETE', operationPath(id));
    });
}
