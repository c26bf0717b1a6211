/** e_machine values (elf(5), <elf.h>) and the `uname -m` name of each. */
const MACHINES: Record<number, (is64: boolean, littleEndian: boolean) => string> = {
  3: () => 'i686',
  8: (is64, le) => (is64 ? (le ? 'mips64el' : 'mips64') : le ? 'mipsel' : 'mips'),
  20: () => 'ppc',
  21: (_is64, le) => (le ? 'ppc64le' : 'ppc64'),
  22: (is64) => (is64 ? 's390x' : 's390'),
  40: () => 'armv7l',
  62: () => 'x86_64',
  183: () => 'aarch64',
  243: (is64) => (is64 ? 'riscv64' : 'riscv32'),
  258: () => 'loongarch64',
};

/** The size of a 64-bit ELF header (the 32-bit one is shorter); e_machine sits at offset 18. */
export const ELF_HEADER_BYTES = 64;

/**
 * The architecture an ELF binary is built for, named as `uname -m` names it (x86_64, aarch64,
 * ...), from its header; undefined when the bytes are not an ELF header or name an unknown
 * machine.
 */
export function elfArchitecture(header: Buffer): string | undefined {
  if (header.length < 20 || header.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const elfClass = header[4];
  const data = header[5];
  if ((elfClass !== 1 && elfClass !== 2) || (data !== 1 && data !== 2)) return undefined;
  const littleEndian = data === 1;
  const machine = littleEndian ? header.readUInt16LE(18) : header.readUInt16BE(18);
  return MACHINES[machine]?.(elfClass === 2, littleEndian);
}
