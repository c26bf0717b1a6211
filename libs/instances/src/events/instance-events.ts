export class InstanceCreatedEvent {
  constructor(readonly name: string) {}
}

export class InstanceUpdatedEvent {
  constructor(readonly name: string) {}
}

export class InstanceRenamedEvent {
  constructor(readonly oldName: string, readonly name: string) {}
}

export class InstanceDeletedEvent {
  constructor(readonly name: string) {}
}

export class InstanceStartingEvent {
  constructor(readonly name: string) {}
}

export class InstanceStartedEvent {
  constructor(readonly name: string) {}
}

export class InstanceReadyEvent {
  constructor(readonly name: string, readonly readyMs: number | null) {}
}

/**
 * The container is gone. `exit` says how its init ended when the stop saw it (the monitor's
 * `lastExit`): `poweroff` (it halted: reboot(2) in its pid namespace), `killed:9` (the kill after
 * the timeout, or a forced stop), `exited:N`; null when not known.
 */
export class InstanceStoppedEvent {
  constructor(readonly name: string, readonly exit: string | null = null) {}
}

/** The container rebooted from inside (`systemctl reboot`): its monitor started a new init. */
export class InstanceRestartedEvent {
  constructor(readonly name: string) {}
}

/**
 * The kernel's OOM killer ended `killed` processes in the container since the last look
 * (`total` in its current cgroup): its memory limit was reached. The container itself runs on.
 */
export class InstanceOomEvent {
  constructor(readonly name: string, readonly killed: number, readonly total: number) {}
}

export class InstancePausedEvent {
  constructor(readonly name: string) {}
}

export class InstanceResumedEvent {
  constructor(readonly name: string) {}
}

export class InstanceExecEvent {
  constructor(readonly name: string, readonly command: readonly string[]) {}
}
