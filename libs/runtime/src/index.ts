export {
  Runtime,
  lxcfsMount,
  type CgroupLimit,
  type ContainerState,
  type InitKind,
  type ExecExit,
  type ExecStream,
  type ExecStreamOptions,
} from './runtime.js';
export {
  NativeCallError,
  ContainerAlreadyRunningError,
  ContainerNotRunningError,
  InvalidContainerSpecError,
  CgroupLimitError,
} from './errors.js';
export { GuestRoot, type GuestStat, type GuestDirent } from './guest-root.js';
export { RuntimeModule, GuestRoots } from './runtime.module.js';
