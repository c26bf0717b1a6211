/**
 * VM sources for `berth import-vm`: a VM's root filesystem (tarball, directory, raw or qcow2 disk)
 * read safely into a new directory, through the image extraction pipeline of libs/images.
 */
export { detectVmSource, type VmSourceKind } from './detect-source.js';
export { extractGuest, type ExtractGuestProgress, type ExtractGuestRequest, type ExtractedGuest, type ExtractedPartition } from './extract-guest.js';
export type { DiskReader } from './disk-reader.js';
export { describePartition, readPartitionTable, rootCandidates, type DiskPartition, type PartitionRole, type PartitionTable, type ReadAt } from './partition-table.js';
export * from './source.errors.js';
export { extractGuestOverSsh, parseSshTarget, remoteTarScript, sshArgs, type ExtractOverSshRequest, type SshSource } from './ssh-source.js';
