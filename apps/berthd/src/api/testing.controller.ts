import { Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ValidationError } from '#core';
import { OperationCancelledError, OperationRunner } from '#operations';
import { asyncResponse, sync } from '../http/envelope.js';
import { body, fields } from '../http/params.js';

/**
 * Present only with BERTH_TEST_HOOKS=true: starts a real, persisted operation that runs for a
 * given time, so the suite can exercise waiting, cancelling and crash recovery of operations
 * before the contexts that create long operations (images, instances) exist.
 */
@Controller('internal/testing')
export class TestingController {
  constructor(private readonly runner: OperationRunner) {}

  @Post('operations')
  @HttpCode(202)
  async start(@Body() raw: unknown, @Res({ passthrough: true }) res: Response) {
    const input = fields(body(raw), ['duration_ms', 'fail', 'cancellable']);
    const duration = Number(input.duration_ms ?? 1000);
    if (!Number.isInteger(duration) || duration < 0 || duration > 3_600_000) throw new ValidationError('duration_ms', 'must be an integer from 0 to 3600000');
    const op = await this.runner.start({
      description: 'Testing operation',
      cancellable: input.cancellable === true,
      run: ({ signal, progress }) =>
        new Promise((resolve, reject) => {
          const timer = setTimeout(() => (input.fail ? reject(new Error(String(input.fail))) : resolve({ slept_ms: duration })), duration);
          void progress({ started: true });
          signal.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(new OperationCancelledError());
          });
        }),
    });
    const url = OperationRunner.url(op.id);
    res.setHeader('Location', url);
    return asyncResponse(url, op);
  }

  /**
   * The daemon's memory after a full garbage collection (when node runs with --expose-gc): what
   * the soak test compares, as RSS alone wanders with V8's heap sizing.
   */
  @Post('gc')
  @HttpCode(200)
  gc() {
    const collect = (globalThis as { gc?: () => void }).gc;
    if (!collect) throw new ValidationError('gc', 'the daemon does not run with --expose-gc');
    collect();
    collect();
    return sync(process.memoryUsage());
  }
}
