import { CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { ValidationError } from '#core';
import { OperationRunner, type OperationView } from '#operations';
import { InstanceStateError } from '../../domain/instance.errors.js';
import { InstanceExecEvent } from '../../events/instance-events.js';
import { ContainerHost } from '../../infrastructure/container-host.js';
import { ExecLogs } from '../../infrastructure/exec-logs.js';
import { InstanceRepository } from '../../infrastructure/instance.repository.js';
import { ExecInInstanceCommand } from './exec-in-instance.command.js';

function stringMap(field: string, value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new ValidationError(field, 'must be an object of strings');
  for (const [k, v] of Object.entries(value)) if (typeof v !== 'string') throw new ValidationError(`${field}["${k}"]`, 'must be a string');
  return value as Record<string, string>;
}

/**
 * Runs a command in a running instance, recording its output (LXD's `record-output` mode, the
 * one REST automation uses). The exit code is the operation's `metadata.return`. The streaming
 * websocket mode that `lxc exec` uses is not implemented yet and is refused clearly.
 */
@CommandHandler(ExecInInstanceCommand)
export class ExecInInstanceHandler implements ICommandHandler<ExecInInstanceCommand> {
  constructor(
    private readonly instances: InstanceRepository,
    private readonly host: ContainerHost,
    private readonly logs: ExecLogs,
    private readonly operations: OperationRunner,
    private readonly events: EventBus,
  ) {}

  async execute({ name, body }: ExecInInstanceCommand): Promise<OperationView> {
    const command = body.command;
    if (!Array.isArray(command) || command.length === 0 || !command.every((c) => typeof c === 'string' && !c.includes('\u0000'))) {
      throw new ValidationError('command', 'must be a non-empty list of strings');
    }
    if (body['wait-for-websocket'] === true || body.interactive === true) {
      throw new ValidationError('wait-for-websocket', 'streaming exec over websockets is not supported yet; use "record-output": true');
    }
    const environment = stringMap('environment', body.environment);
    const cwd = body.cwd === undefined || body.cwd === '' ? '/root' : body.cwd;
    if (typeof cwd !== 'string' || !cwd.startsWith('/')) throw new ValidationError('cwd', 'must be an absolute path inside the instance');
    const uid = body.user === undefined ? 0 : body.user;
    const gid = body.group === undefined ? 0 : body.group;
    if (!Number.isInteger(uid) || (uid as number) < 0 || !Number.isInteger(gid) || (gid as number) < 0) throw new ValidationError('user', 'user and group must be numeric ids');
    const instance = await this.instances.get(name);
    if (!instance.isRunning) throw new InstanceStateError(`Instance "${name}" is not running`);
    const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8', ...this.instanceEnvironment(instance.expanded.config), ...environment };
    const record = body['record-output'] === true;
    return this.operations.start({
      description: 'Executing command',
      resources: { instances: [`/1.0/instances/${name}`] },
      run: async () => {
        const result = await this.host.runtime.exec(name, command as string[], { env, cwd, uid: uid as number, gid: gid as number });
        this.events.publish(new InstanceExecEvent(name, command as string[]));
        return { return: result.exitCode, output: record ? await this.logs.record(name, result.stdout, result.stderr) : {} };
      },
    });
  }

  /** `environment.*` config keys are the default environment of every exec, as in LXD. */
  private instanceEnvironment(config: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(config).filter(([k]) => k.startsWith('environment.')).map(([k, v]) => [k.slice('environment.'.length), v]));
  }
}
