import { describe, expect, it } from "vitest";
import { buildSeccompFilter, type SeccompArch } from "./seccomp-filter.ts";

// A classic-BPF interpreter for the handful of instructions the filter uses, so both architectures'
// decisions are checked here, whatever machine runs the tests.
const AUDIT_ARCH = { x64: 0xc000003e, arm64: 0xc00000b7 } as const;
const ALLOW = "allow";
const EPERM = "EPERM";
const ENOSYS = "ENOSYS";
const KILL = "kill";

function decide(filter: Buffer, call: { arch: number; nr: number; args?: number[] }): string {
  const data = Buffer.alloc(64);
  data.writeInt32LE(call.nr, 0);
  data.writeUInt32LE(call.arch, 4);
  for (const [index, value] of (call.args ?? []).entries())
    data.writeBigUInt64LE(BigInt(value), 16 + 8 * index);
  let accumulator = 0;
  for (let pc = 0; pc < filter.length / 8; pc++) {
    const code = filter.readUInt16LE(pc * 8);
    const jt = filter.readUInt8(pc * 8 + 2);
    const jf = filter.readUInt8(pc * 8 + 3);
    const k = filter.readUInt32LE(pc * 8 + 4);
    switch (code) {
      case 0x20:
        accumulator = data.readUInt32LE(k);
        break;
      case 0x15:
        pc += accumulator === k ? jt : jf;
        break;
      case 0x35:
        pc += accumulator >= k ? jt : jf;
        break;
      case 0x45:
        pc += (accumulator & k) !== 0 ? jt : jf;
        break;
      case 0x06:
        if (k === 0x7fff0000) return ALLOW;
        if (k === 0x80000000) return KILL;
        if (k === 0x00050001) return EPERM;
        if (k === 0x00050026) return ENOSYS;
        return `ret ${k.toString(16)}`;
      default:
        throw new Error(`unknown opcode ${code.toString(16)} at ${pc}`);
    }
  }
  throw new Error("fell off the end of the filter");
}

const numbers: Record<SeccompArch, Record<string, number>> = {
  x64: {
    read: 0,
    ioctl: 16,
    ptrace: 101,
    mount: 165,
    unshare: 272,
    clone: 56,
    clone3: 435,
    bpf: 321,
    openat: 257,
  },
  arm64: {
    read: 63,
    ioctl: 29,
    ptrace: 117,
    mount: 40,
    unshare: 97,
    clone: 220,
    clone3: 435,
    bpf: 280,
    openat: 56,
  },
};

describe.each(["x64", "arm64"] as const)("the %s seccomp filter", (arch) => {
  const filter = buildSeccompFilter(arch);
  const nr = numbers[arch];
  const call = (name: string, args?: number[]) =>
    decide(filter, { arch: AUDIT_ARCH[arch], nr: nr[name]!, args });

  it("is a whole number of 8-byte instructions, well under the kernel's 4096 limit", () => {
    expect(filter.length % 8).toBe(0);
    expect(filter.length / 8).toBeLessThan(100);
  });

  it("allows ordinary syscalls", () => {
    expect([call("read"), call("openat"), call("ioctl", [1, 0x5401])]).toEqual([ALLOW, ALLOW, ALLOW]);
  });

  it("denies namespace, mount, tracing and kernel syscalls with EPERM", () => {
    expect([call("ptrace"), call("mount"), call("unshare"), call("bpf")]).toEqual([
      EPERM,
      EPERM,
      EPERM,
      EPERM,
    ]);
  });

  it("denies TIOCSTI and TIOCLINUX by the low 32 bits of the request", () => {
    expect([
      call("ioctl", [0, 0x5412]),
      call("ioctl", [0, 0x541c]),
      call("ioctl", [0, 0x1_0000_5412]),
    ]).toEqual([EPERM, EPERM, EPERM]);
  });

  it("denies clone with namespace flags but allows fork and threads", () => {
    const CLONE_NEWUSER = 0x10000000;
    const SIGCHLD = 17;
    const threadFlags = 0x3d0f00;
    expect([
      call("clone", [CLONE_NEWUSER | SIGCHLD]),
      call("clone", [SIGCHLD]),
      call("clone", [threadFlags]),
    ]).toEqual([EPERM, ALLOW, ALLOW]);
  });

  it("answers clone3 with ENOSYS so that libc falls back to clone", () => {
    expect(call("clone3")).toBe(ENOSYS);
  });

  it("kills processes that make syscalls for another architecture", () => {
    const i386 = 0x40000003;
    expect(decide(filter, { arch: i386, nr: 0 })).toBe(KILL);
  });
});

describe("the x64 seccomp filter and the x32 ABI", () => {
  it("denies every x32 syscall", () => {
    const filter = buildSeccompFilter("x64");
    expect(decide(filter, { arch: AUDIT_ARCH.x64, nr: 0x40000000 + 521 })).toBe(EPERM);
  });
});
