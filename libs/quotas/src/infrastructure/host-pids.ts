import { readFile } from 'node:fs/promises';
import { Injectable } from '@nestjs/common';

const PID_MAX = '/proc/sys/kernel/pid_max';

/** The host's pid table, read when asked: `sysctl kernel.pid_max` can change while the daemon runs. */
@Injectable()
export class HostPids {
  async pidMax(): Promise<number> {
    const text = (await readFile(PID_MAX, 'utf8')).trim();
    const n = Number(text);
    if (!/^\d+$/.test(text) || n <= 0) throw new Error(`${PID_MAX} holds "${text}", not a pid count`);
    return n;
  }
}
