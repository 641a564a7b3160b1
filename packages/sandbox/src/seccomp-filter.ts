// A classic-BPF seccomp program, assembled here so that no native code (libseccomp) is needed. bwrap
// loads it with `--seccomp FD` right before it executes the command, after its own mounts are done.
//
// Layout (jumps only go forward): check the architecture (anything but the expected one is killed, which also catches i386
// syscalls made from a 64-bit process), deny x32 syscalls on x86_64, then compare the syscall number
// against the deny list. Three syscalls need their arguments inspected: ioctl (TIOCSTI/TIOCLINUX
// push bytes into the terminal's input queue), clone (namespace flags would undo the `unshare` ban)
// and clone3 (its flags live in memory BPF cannot read; ENOSYS makes libc fall back to clone).
import { closeSync, openSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertNever, KilnError } from "@kiln/protocol";

/** CPU architectures the filter supports (Node's `process.arch` names). */
export type SeccompArch = "x64" | "arm64";

/** Syscalls denied with EPERM: everything that reconfigures the kernel, namespaces or other processes. */
export const deniedSyscalls = [
  "ptrace",
  "mount",
  "umount2",
  "pivot_root",
  "chroot",
  "unshare",
  "setns",
  "bpf",
  "keyctl",
  "add_key",
  "request_key",
  "kexec_load",
  "kexec_file_load",
  "init_module",
  "finit_module",
  "delete_module",
  "reboot",
  "swapon",
  "swapoff",
  "perf_event_open",
  "userfaultfd",
  "process_vm_readv",
  "process_vm_writev",
  "open_by_handle_at",
  // The new mount API: without these, `mount` alone would not be denied.
  "open_tree",
  "move_mount",
  "fsopen",
  "fsconfig",
  "fsmount",
  "fspick",
  "mount_setattr",
] as const;

type SyscallName = (typeof deniedSyscalls)[number] | "ioctl" | "clone" | "clone3";

// From the kernel's arch/x86/entry/syscalls/syscall_64.tbl and include/uapi/asm-generic/unistd.h.
const syscallNumbers: Record<SeccompArch, Record<SyscallName, number>> = {
  x64: {
    ptrace: 101,
    mount: 165,
    umount2: 166,
    pivot_root: 155,
    chroot: 161,
    unshare: 272,
    setns: 308,
    bpf: 321,
    keyctl: 250,
    add_key: 248,
    request_key: 249,
    kexec_load: 246,
    kexec_file_load: 320,
    init_module: 175,
    finit_module: 313,
    delete_module: 176,
    reboot: 169,
    swapon: 167,
    swapoff: 168,
    perf_event_open: 298,
    userfaultfd: 323,
    process_vm_readv: 310,
    process_vm_writev: 311,
    open_by_handle_at: 304,
    open_tree: 428,
    move_mount: 429,
    fsopen: 430,
    fsconfig: 431,
    fsmount: 432,
    fspick: 433,
    mount_setattr: 442,
    ioctl: 16,
    clone: 56,
    clone3: 435,
  },
  arm64: {
    ptrace: 117,
    mount: 40,
    umount2: 39,
    pivot_root: 41,
    chroot: 51,
    unshare: 97,
    setns: 268,
    bpf: 280,
    keyctl: 219,
    add_key: 217,
    request_key: 218,
    kexec_load: 104,
    kexec_file_load: 294,
    init_module: 105,
    finit_module: 273,
    delete_module: 106,
    reboot: 142,
    swapon: 224,
    swapoff: 225,
    perf_event_open: 241,
    userfaultfd: 282,
    process_vm_readv: 270,
    process_vm_writev: 271,
    open_by_handle_at: 265,
    open_tree: 428,
    move_mount: 429,
    fsopen: 430,
    fsconfig: 431,
    fsmount: 432,
    fspick: 433,
    mount_setattr: 442,
    ioctl: 29,
    clone: 220,
    clone3: 435,
  },
};

const auditArch: Record<SeccompArch, number> = { x64: 0xc000003e, arm64: 0xc00000b7 };

/** ioctl requests that inject input into a terminal. */
const TIOCSTI = 0x5412;
const TIOCLINUX = 0x541c;
/** CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET. */
const CLONE_NAMESPACE_FLAGS = 0x7e020000;
/** Syscall numbers of the x32 ABI carry this bit (same AUDIT_ARCH as x86_64). */
const X32_SYSCALL_BIT = 0x40000000;

const EPERM = 1;
const ENOSYS = 38;
const RET_KILL_PROCESS = 0x80000000;
const RET_ERRNO = 0x00050000;
const RET_ALLOW = 0x7fff0000;

const LD_W_ABS = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JEQ_K = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JGE_K = 0x35; // BPF_JMP | BPF_JGE | BPF_K
const JSET_K = 0x45; // BPF_JMP | BPF_JSET | BPF_K
const RET_K = 0x06; // BPF_RET | BPF_K

/** struct seccomp_data offsets (little-endian, so the low half of an argument comes first). */
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
const offsetArgLow = (index: number) => 16 + 8 * index;

type Label = "deny" | "enosys" | "allow" | "kill" | "ioctl" | "clone";
type Jump = Label | 0;
type Instruction =
  | { type: "label"; label: Label }
  | { type: "load"; offset: number }
  | { type: "jump"; code: number; k: number; jt: Jump; jf: Jump }
  | { type: "return"; k: number };

const load = (offset: number): Instruction => ({ type: "load", offset });
const jumpIf = (code: number, k: number, jt: Jump, jf: Jump = 0): Instruction => ({
  type: "jump",
  code,
  k,
  jt,
  jf,
});
const ret = (k: number): Instruction => ({ type: "return", k });
const label = (name: Label): Instruction => ({ type: "label", label: name });

function program(arch: SeccompArch): Instruction[] {
  const nr = syscallNumbers[arch];
  return [
    load(OFFSET_ARCH),
    jumpIf(JEQ_K, auditArch[arch], 0, "kill"),
    load(OFFSET_NR),
    ...(arch === "x64" ? [jumpIf(JGE_K, X32_SYSCALL_BIT, "deny")] : []),
    ...deniedSyscalls.map((name) => jumpIf(JEQ_K, nr[name], "deny")),
    jumpIf(JEQ_K, nr.ioctl, "ioctl"),
    jumpIf(JEQ_K, nr.clone, "clone"),
    jumpIf(JEQ_K, nr.clone3, "enosys"),
    ret(RET_ALLOW),
    label("ioctl"),
    load(offsetArgLow(1)),
    jumpIf(JEQ_K, TIOCSTI, "deny"),
    jumpIf(JEQ_K, TIOCLINUX, "deny", "allow"),
    label("clone"),
    load(offsetArgLow(0)),
    jumpIf(JSET_K, CLONE_NAMESPACE_FLAGS, "deny", "allow"),
    label("allow"),
    ret(RET_ALLOW),
    label("deny"),
    ret(RET_ERRNO | EPERM),
    label("enosys"),
    ret(RET_ERRNO | ENOSYS),
    label("kill"),
    ret(RET_KILL_PROCESS),
  ];
}

/** Resolves labels to relative jump offsets and encodes each `struct sock_filter` (8 bytes, LE). */
function assemble(instructions: Instruction[]): Buffer {
  const code = instructions.filter((i) => i.type !== "label");
  const positions = new Map<Label, number>();
  let position = 0;
  for (const instruction of instructions) {
    if (instruction.type === "label") positions.set(instruction.label, position);
    else position += 1;
  }
  const out = Buffer.alloc(code.length * 8);
  for (const [index, instruction] of code.entries()) {
    const offset = (target: Jump): number => {
      if (target === 0) return 0;
      const distance = positions.get(target)! - (index + 1);
      // Classic BPF only jumps forward, at most 255 instructions.
      if (distance < 0 || distance > 255) throw new Error(`seccomp jump to ${target} out of range`);
      return distance;
    };
    const at = index * 8;
    switch (instruction.type) {
      case "load":
        out.writeUInt16LE(LD_W_ABS, at);
        out.writeUInt32LE(instruction.offset, at + 4);
        break;
      case "jump":
        out.writeUInt16LE(instruction.code, at);
        out.writeUInt8(offset(instruction.jt), at + 2);
        out.writeUInt8(offset(instruction.jf), at + 3);
        out.writeUInt32LE(instruction.k >>> 0, at + 4);
        break;
      case "return":
        out.writeUInt16LE(RET_K, at);
        out.writeUInt32LE(instruction.k >>> 0, at + 4);
        break;
      default:
        assertNever(instruction);
    }
  }
  return out;
}

/** The seccomp program for `arch`, as the bytes `bwrap --seccomp` reads. */
export function buildSeccompFilter(arch: SeccompArch): Buffer {
  return assemble(program(arch));
}

/** Whether this machine's architecture has a filter. */
export function isSeccompArch(arch: string): arch is SeccompArch {
  return arch === "x64" || arch === "arm64";
}

// The filter is built and written once per process (it never changes). Kept in an unlinked file so
// nothing is left behind: each spawn reopens it through /proc/<pid>/fd/<n>, which gives a fresh file
// offset, so concurrent spawns never share a read position.
let filterPath: string | undefined;

/**
 * A path (`/proc/<pid>/fd/<n>`) that opens this process's seccomp filter; only this user can open it.
 * Throws `sandbox_unavailable` on an architecture without a filter.
 */
export function seccompFilterPath(): string {
  if (filterPath !== undefined) return filterPath;
  const arch = process.arch;
  if (!isSeccompArch(arch)) {
    throw new KilnError(
      "sandbox_unavailable",
      `The sandbox has no seccomp filter for ${arch} (only x64 and arm64): run with \`--sandbox danger-full-access\`.`,
    );
  }
  const bytes = buildSeccompFilter(arch);
  const path = join(tmpdir(), `kiln-seccomp-${process.pid}-${Date.now()}.bpf`);
  const fd = openSync(path, "wx+", 0o400);
  try {
    writeSync(fd, bytes);
  } catch (error) {
    closeSync(fd);
    throw error;
  } finally {
    unlinkSync(path);
  }
  filterPath = `/proc/${process.pid}/fd/${fd}`;
  return filterPath;
}
