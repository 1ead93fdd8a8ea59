// The GNU-as front end (src/machine/gas) against an independent reference: GNU as +
// ld from Debian's cross binutils. Each realistic program is assembled by both, linked
// by GNU ld at the addresses our layout chose, and the section bytes, .bss size,
// symbol addresses and entry point must be identical.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleProgram, GasError, type AsmProgram } from '../../src/machine/gas/index.js';

type Arch = 'arm' | 'x86';

interface Case {
  name: string;
  arch: Arch;
  source: string;
  /** First label of .rodata, if the program has one (tells GNU ld where .rodata goes). */
  rodataLabel?: string;
}

const CASES: Case[] = [
  {
    name: 'arm-hello',
    arch: 'arm',
    source: String.raw`@ ARM EABI hello world
        .syntax unified
        .arm
        .global _start
        .type _start, %function
_start:
        mov     r0, #1                  @ fd = stdout
        ldr     r1, =msg
        ldr     r2, =len
        mov     r7, #4                  @ __NR_write
        svc     #0
        mov     r0, #0
        mov     r7, #1                  @ __NR_exit
        svc     #0

        .data
msg:    .ascii  "Hello, world!\n"
len = . - msg
`,
  },
  {
    name: 'x86-hello',
    arch: 'x86',
    rodataLabel: 'msg',
    source: String.raw`# i386 hello world: write(1, msg, len); exit(0)
        .section .rodata
msg:    .ascii "Hello, world!\n"
        len = . - msg

        .text
        .globl _start
_start:
        movl    $4, %eax        # sys_write
        movl    $1, %ebx
        movl    $msg, %ecx
        movl    $len, %edx
        int     $0x80

        movl    $1, %eax        # sys_exit
        xorl    %ebx, %ebx
        int     $0x80
`,
  },
  {
    name: 'arm-pool-thumb',
    arch: 'arm',
    rodataLabel: 'msg',
    source: String.raw`@ ARM + Thumb: literal pools, .ltorg, interworking, IT blocks
    .syntax unified
    .arch armv7-a
    .global _start
    .text
_start:
    ldr r0, =0x01200011        @ CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD
    mov r1, #0
    ldr r2, =msg
    ldr r3, =len                @ defined later: GNU as puts it in the pool
    ldr r4, =0xffffff00         @ becomes mvn
    ldr r5, =0x00ff0000         @ becomes mov
    adr r6, table
    blx thumb_part
    bl thumb_func               @ a Thumb function: becomes blx
    b 1f
    .ltorg
1:  mov r7, #1
    sub r0, r0, #-1
    svc #0
table:
    .word _start, thumb_func, msg, len
    .hword 1, 2
    .byte 'A', 0x42, 067, 0b101
    .align 2
    .thumb
thumb_part:
    movs r0, #1
    ldr r1, =msg
    ldr r2, =len
    ldr r3, =0x1234             @ movw
    ldr r4, =0x01200011
    ldr r5, =0xff00ff00         @ mov.w
    ldr r6, =0xfffffff0         @ mvn.w
    adr r7, table2
    cmp r0, #0
    beq 2f
    bne 2f
    it eq
    moveq r0, #2
    ite ne
    addne r0, r0, #1
    subeq r0, r0, #1
    cbz r0, 2f
    cbnz r0, 2f
    nop
2:  bx lr
    .align 2
table2: .word thumb_func, thumb_part
    .type thumb_func, %function
thumb_func:
    push {r4, lr}
    ldr r0, [pc, #4]
    ldr r0, lit
    pop {r4, pc}
    .align 2
lit: .word 0xdeadbeef
    .ltorg

    .section .rodata
msg:
    .ascii "Hello from ARM\n"
    .asciz "z"
len = . - msg
`,
  },
  {
    name: 'thumb-relax',
    arch: 'arm',
    source: String.raw`@ Thumb entry; branches and literal loads that must grow to 32 bits
        .syntax unified
        .text
        .thumb
        .thumb_func
        .global _start
_start:
        ldr     r0, =0x01200011
        movs    r1, #0
        ldr     r2, =far_data
        ldr     r8, =0x12345
        b       skip
        .space  1200
skip:   cmp     r0, #0
        beq     forward_far
        bl      arm_func
        b.n     1f
1:      ldr     r3, =0xcafe0000
        .space  2100
        .ltorg
forward_far:
        movs    r7, #1
        svc     0
        .code   32
        .type   arm_func, %function
arm_func:
        bx      lr
        .align  4
far_data: .word 1
`,
  },
  {
    name: 'arm-data-bss-loops',
    arch: 'arm',
    source: String.raw`/* ARM: .data/.bss, local labels, loops, .equ/.set/= */
        .syntax unified
        .equ    SYS_WRITE, 4
        .set    SYS_EXIT, 1
        .equ    COUNT, 10
        STDOUT = 1

        .text
        .global _start
_start:
        ldr     r4, =buffer
        mov     r5, #0
1:      strb    r5, [r4, r5]            @ buffer[i] = i
        add     r5, r5, #1
        cmp     r5, #COUNT
        blt     1b
        ldr     r6, =counter
        ldr     r0, [r6]
        mov     r1, #COUNT - 1
2:      subs    r1, r1, #1
        add     r0, r0, r1, lsl #1
        bne     2b
        str     r0, [r6]
        beq     1f
        nop
1:      ldr     r1, =message; ldr r2, =message_len
        mov     r0, #STDOUT
        mov     r7, #SYS_WRITE
        svc     #0
        adr     r3, consts
        ldr     r0, [r3, #4]
        ldr     r1, exit_code
        mov     r7, #SYS_EXIT
        svc     #0
        .align  3
consts: .word   0x11111111, 0x22222222
exit_code: .word (1 << 2) | 3 & ~1
        .ltorg

        .data
counter: .word 5
message: .ascii "loop done\n"
message_len = . - message
        .align  2
ptrs:   .word   counter, message, buffer, _start, stack_top - stack
        .hword  -1
        .byte   -1, 255, '\n', '\\'
        .quad   0x123456789abcdef0
        .asciz  "tab\there", "oct\101\x42"
        .string "s"
        .balign 8, 0xaa
        .2byte  0x1234
        .4byte  0x12345678
        .fill   3, 2, 0x55aa
        .zero   3
        .p2align 2

        .bss
buffer: .space  64
        .align  4
stack:  .skip   256
stack_top:
`,
  },
  {
    name: 'x86-data-memory',
    arch: 'x86',
    source: String.raw`/* i386: .data labels as immediates and in memory operands */
        .code32
        .data
        .align 4
counter: .long 0
buf:    .byte 1, 2, 3, 4
        .word 0x1234            # 16 bits on i386
        .int 7
table:  .long loop_top, done, buf + 2
msg:    .asciz "count\t\"ok\"\n"
msglen = . - msg - 1

        .bss
        .align 16
scratch: .space 64
flag:   .byte 0
        .lcomm lbuf, 64           # after the .bss content, 8-aligned
big:    .skip 4096

        .text
        .global _start
_start:
        movl    $0, counter
        movl    $10, %ecx
        leal    buf, %esi
        movl    $table, %edi
loop_top:
        incl    counter
        movl    counter, %eax
        movb    buf(%eax), %dl
        movl    table(,%eax,4), %ebx
        addl    $msglen, %eax
        addl    $LATER, %eax       # defined below: 32-bit immediate, like GNU as
        movl    %eax, scratch+4
        cmpl    $5, %eax
        jl      1f
        jmp     2f
1:      nop
2:      loop    loop_top
        jecxz   3f
        nop
3:      call    helper
        jmp     far_away
        .p2align 4
helper:
        pushl   %ebp
        movl    %esp, %ebp
        movl    $msg, %ecx
        movl    $(big - scratch), %edx
        movl    $lbuf, %esi
        popl    %ebp
        ret
        .align  16                # i386 ELF: a byte count
far_away:
        .fill   130, 1, 0x90
        je      loop_top
        jne     helper
        .intel_syntax noprefix
        mov     eax, offset msg
        mov     ebx, counter
        lea     ecx, [table + 4]
        mov     dword ptr [counter], 7
        .att_syntax prefix
done:
        movl    $1, %eax
        movl    counter, %ebx
        int     $0x80
        LATER = 3
`,
  },
  {
    name: 'arm-misc',
    arch: 'arm',
    rodataLabel: 'msg',
    source: String.raw`@ Assorted ARM forms: movw/movt halves, .set versions, repeated local labels,
@ pc-relative data, adr in both states, literal at offset 0
        .syntax unified
        .text
        .global _start
_start:
        movw    r0, #:lower16:msg
        movt    r0, #:upper16:msg
        movw    r1, #:lower16:0x12345678
        ldr     r2, =msg+4
        ldr     r4, =_start
        .set    x, 1
        mov     r5, #x
        .set    x, x+1
        mov     r6, #x
1:      nop
1:      nop
        b       1b
        bne     1f
1:      mov     r0, #(3 << 2) | 1
        mov     r0, #'a'
        cmp     r0, #'\n'
        adr     r0, _start
        adr     r1, data
        ldr     r0, =0x12345678
        nop
        .ltorg
        ldr     r2, 2f
2:      .word   . - _start, 1b, msg - .
        ldrh    r3, 3f
3:      .hword  6, 7
        bl      _start
        bl      0x10000                 @ a numeric target is an absolute address
        blx     tf
        .thumb
        .thumb_func
tf:     adr     r0, tf2
        adr     r1, _start
        adr     r2, data
        adr.w   r3, data
        adr     r8, data
        ldr     r0, 5f
        nop
5:      .word   9
        ldr.w   r0, 6f
6:      .word   9
        ldr     r8, =0x55555555
        ldr.w   r9, =0x55555556
        mov     r0, #0x1000
        adds    r0, r0, #1
        sub     r1, r1, #1
.thumb_func
tf2:    bx      lr
        .align  2
data:   .word   0
        .arm
        sub     r0, r0, #-1
        and     r1, r1, #-256
        cmp     r2, #-3
        bx      lr

        .section .rodata,"a",%progbits
msg:    .asciz  "x"
        .section .note.GNU-stack,"",%progbits
`,
  },
  {
    name: 'x86-intel-misc',
    arch: 'x86',
    source: String.raw`# Intel syntax with labels (offset, bare labels are memory), AT&T again, nop padding
.intel_syntax noprefix
.text
.globl _start
_start:
    mov eax, offset msg
    mov ecx, OFFSET msg + 2
    mov edx, len
    mov ebx, [msg]
    mov ebx, dword ptr msg
    mov ebx, msg
    lea esi, msg
    lea edi, [msg + ebx*4]
    lea edi, [ebx*4 + msg]
    mov byte ptr [msg + 1], 'x'
    add eax, len
    cmp eax, -1
    push offset msg
    call func
    jmp short 1f
1:  jz 1b
    jmp func
    nop
    .balign 8
func:
    ret
    .p2align 3, 0x90
.att_syntax
    movl $msg+1, %eax
    movl $(msg - _start), %ebx
    movl msg+4, %eax
    movl %eax, msg(,%ecx,4)
    movw $len, %ax
    movb $len, %al
    pushl $len
    int $0x80
    rep stosb
    .equ PT_EBX, 8
    call *PT_EBX(%esp)
    je 0x8048000                 # a numeric target: absolute, 32-bit form
    call 0x8048000
    jmp *jtab(,%eax,4)
    call *jtab
jtab: .long func, _start
.data
msg: .string "hey"
len = . - msg
     .quad 0x1122334455667788, -1
     .short 1, -2
     .value 3
`,
  },
  {
    name: 'arm-fixed-offsets',
    arch: 'arm',
    source: String.raw`@ Code at fixed offsets, the way a vectors page places its helpers
        .syntax unified
        .text
        .global _start
_start:
        b       helper
        .space  0x60 - (. - _start)
helper: mov     r0, #0
        bx      lr
        .org    0x80
        .byte   1
        .org    _start + 0xa0, 0xff
last:   .word   helper
        .data
        .byte   1
        .org    8, 0x11
        .balign 16, 0x22
z:      .byte   2
`,
  },
];

// ---------------------------------------------------------------------------
// GNU reference

const TOOLS: Record<Arch, { prefix: string; asFlags: string[]; ldFlags: string[] }> = {
  arm: { prefix: 'arm-linux-gnueabi-', asFlags: ['-march=armv7-a'], ldFlags: [] },
  x86: { prefix: 'i686-linux-gnu-', asFlags: ['--32'], ldFlags: ['-m', 'elf_i386'] },
};

function requireGnuTools(): void {
  const missing: string[] = [];
  for (const { prefix } of Object.values(TOOLS)) {
    for (const tool of ['as', 'ld', 'objcopy', 'nm', 'readelf']) {
      try {
        execFileSync(`${prefix}${tool}`, ['--version'], { stdio: 'ignore' });
      } catch {
        missing.push(`${prefix}${tool}`);
      }
    }
  }
  if (missing.length) {
    throw new Error(
      `GNU cross binutils missing (${missing.join(', ')}): the gas front-end tests compare against ` +
        `GNU as + ld. Run \`npm test\` (it installs binutils-arm-linux-gnueabi and binutils-i686-linux-gnu).`,
    );
  }
}

interface GnuResult {
  text: Buffer;
  rodata: Buffer;
  rodataAddr: number;
  data: Buffer;
  bssSize: number;
  symbols: Map<string, number>;
  entry: number;
}

const hex = (n: number): string => `0x${n.toString(16)}`;

function runGnu(dir: string, c: Case, prog: AsmProgram): GnuResult {
  const { prefix, asFlags, ldFlags } = TOOLS[c.arch];
  const src = path.join(dir, `${c.name}.s`);
  const obj = path.join(dir, `${c.name}.o`);
  const exe = path.join(dir, c.name);
  writeFileSync(src, c.source);
  const run = (tool: string, args: string[]): string =>
    execFileSync(`${prefix}${tool}`, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  run('as', [...asFlags, '-o', obj, src]);
  const [text, data, bss] = prog.sections;
  const ro = c.rodataLabel ? prog.symbols.get(c.rodataLabel) : undefined;
  run('ld', [
    ...ldFlags, '-o', exe, obj, '-e', '_start', '--no-relax', `-Ttext=${hex(text!.addr)}`,
    `-Tdata=${hex(data!.addr)}`, `-Tbss=${hex(bss!.addr)}`,
    ...(ro !== undefined ? [`--section-start=.rodata=${hex(ro)}`] : []),
  ]);
  const section = (name: string): Buffer => {
    const out = path.join(dir, `${c.name}${name}.bin`);
    run('objcopy', ['-O', 'binary', '--only-section', name, exe, out]);
    return readFileSync(out);
  };
  const headers = run('readelf', ['-S', '-W', exe]);
  const shdr = (name: string): { addr: number; size: number } | undefined => {
    const m = new RegExp(`\\s${name.replace('.', '\\.')}\\s+\\w+\\s+([0-9a-f]+)\\s+[0-9a-f]+\\s+([0-9a-f]+)`).exec(headers);
    return m ? { addr: parseInt(m[1]!, 16), size: parseInt(m[2]!, 16) } : undefined;
  };
  const symbols = new Map<string, number>();
  for (const line of run('nm', [exe]).split('\n')) {
    const m = /^([0-9a-f]+)\s+(\w)\s+(\S+)$/.exec(line.trim());
    if (!m) continue;
    const name = m[3]!;
    // Mapping symbols ($a/$t/$d) and symbols the linker defines are not the program's.
    if (name.startsWith('$') || name.startsWith('*ABS*') || /^(__bss_start(__)?|__bss_end__|_bss_end__|__end__|_edata|_end|_stack|__exidx_(start|end))$/.test(name)) continue;
    symbols.set(name, parseInt(m[1]!, 16));
  }
  const entry = parseInt(/Entry point address:\s+0x([0-9a-f]+)/.exec(run('readelf', ['-h', exe]))![1]!, 16);
  return {
    text: section('.text'),
    rodata: shdr('.rodata') ? section('.rodata') : Buffer.alloc(0),
    rodataAddr: shdr('.rodata')?.addr ?? 0,
    data: shdr('.data') ? section('.data') : Buffer.alloc(0),
    bssSize: shdr('.bss')?.size ?? 0,
    symbols,
    entry,
  };
}

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('gas front end vs GNU as + ld', () => {
  let dir = '';
  const results = new Map<string, { prog: AsmProgram; gnu: GnuResult }>();

  beforeAll(() => {
    requireGnuTools();
    dir = mkdtempSync(path.join(tmpdir(), 'trapdoor-gas-'));
    for (const c of CASES) {
      const prog = assembleProgram(c.source, { arch: c.arch, fileName: `${c.name}.s` });
      results.set(c.name, { prog, gnu: runGnu(dir, c, prog) });
    }
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const c of CASES) {
    it(`${c.name}: identical sections, symbols and entry`, () => {
      const { prog, gnu } = results.get(c.name)!;
      const [text, data, bss] = prog.sections;
      // .text holds .rodata after the code.
      const expectedText = Buffer.alloc(Math.max(gnu.text.length, gnu.rodata.length ? gnu.rodataAddr - text!.addr + gnu.rodata.length : 0));
      gnu.text.copy(expectedText);
      if (gnu.rodata.length) gnu.rodata.copy(expectedText, gnu.rodataAddr - text!.addr);
      expect(toHex(text!.bytes)).toBe(expectedText.toString('hex'));
      expect(text!.size).toBe(text!.bytes.length);
      expect(toHex(data!.bytes)).toBe(gnu.data.toString('hex'));
      expect(bss!.size).toBe(gnu.bssSize);
      expect(Object.fromEntries(prog.symbols)).toEqual(Object.fromEntries(gnu.symbols));
      expect(hex(prog.entry)).toBe(hex(gnu.entry));
    });
  }

  it('lays sections out on page boundaries with the right permissions', () => {
    const { prog } = results.get('arm-data-bss-loops')!;
    const [text, data, bss] = prog.sections;
    expect(prog.sections.map((s) => s.name)).toEqual(['.text', '.data', '.bss']);
    expect(text).toMatchObject({ addr: 0x10000, read: true, write: false, exec: true });
    expect(data).toMatchObject({ read: true, write: true, exec: false });
    expect(bss).toMatchObject({ read: true, write: true, exec: false });
    expect(data!.addr % 0x1000).toBe(0);
    expect(data!.addr).toBeGreaterThanOrEqual(text!.addr + text!.size);
    expect(bss!.addr % 0x1000).toBe(0);
    expect(bss!.addr).toBeGreaterThanOrEqual(data!.addr + data!.size);
    expect(bss!.bytes.length).toBe(0);
    expect(bss!.size).toBe(64 + 256);
    expect(prog.symbols.get('stack_top')).toBe(bss!.addr + 64 + 256);
    expect(prog.symbols.get('COUNT')).toBe(10);
    expect(prog.symbols.get('message_len')).toBe(10);
    // Local labels stay out of the symbol table.
    expect([...prog.symbols.keys()].some((n) => /^\d/.test(n))).toBe(false);
  });

  it('defaults x86 text to 0x08048000', () => {
    expect(results.get('x86-hello')!.prog.sections[0]!.addr).toBe(0x08048000);
    expect(results.get('x86-hello')!.prog.arch).toBe('x86');
  });
});

describe('line table and entry point', () => {
  it('has one line per instruction or data directive, sorted, with Thumb marked', () => {
    const prog = assembleProgram(CASES[2]!.source, { arch: 'arm', fileName: 'p.s' });
    const addrs = prog.lines.map((l) => l.addr);
    expect(addrs).toEqual([...addrs].sort((a, b) => a - b));
    const first = prog.lines[0]!;
    expect(first).toEqual({ addr: 0x10000, size: 4, file: 'p.s', line: 7, text: 'ldr r0, =0x01200011', thumb: false });
    const movs = prog.lines.find((l) => l.text.startsWith('movs r0, #1'))!;
    expect(movs.thumb).toBe(true);
    expect(movs.size).toBe(2);
    expect(movs.addr).toBe(prog.symbols.get('thumb_part'));
    const word = prog.lines.find((l) => l.text.startsWith('.word _start'))!;
    expect(word.size).toBe(16);
    // Each emitted byte of .text belongs to exactly one line (no overlaps).
    for (let i = 1; i < prog.lines.length; i++) {
      expect(prog.lines[i]!.addr).toBeGreaterThanOrEqual(prog.lines[i - 1]!.addr + prog.lines[i - 1]!.size);
    }
  });

  it('sets bit 0 of a Thumb entry point, and falls back to the first instruction', () => {
    expect(assembleProgram('.thumb\n_start: movs r0, #0\n', { arch: 'arm' }).entry).toBe(0x10001);
    expect(assembleProgram('nop\nmain: nop\n', { arch: 'arm', textAddr: 0x8000 }).entry).toBe(0x8000);
    expect(assembleProgram('.thumb\nnop\n', { arch: 'arm' }).entry).toBe(0x10001);
    expect(assembleProgram('nop\n_start: nop\n', { arch: 'x86' }).entry).toBe(0x08048001);
  });

  it('reads comments, statements separators and several labels per line', () => {
    const prog = assembleProgram(
      [
        '# preprocessor-style line comment',
        'a: b: mov r0, #1 @ comment; not a statement',
        '/* block',
        '   comment */ mov r1, #2 ; mov r2, #3 // trailing',
        "mov r3, #'#'",
        '.ascii "@;#//"',
      ].join('\n'),
      { arch: 'arm' },
    );
    expect(prog.symbols.get('a')).toBe(0x10000);
    expect(prog.symbols.get('b')).toBe(0x10000);
    expect(prog.lines.map((l) => [l.line, l.text.trim()])).toEqual([
      [2, 'mov r0, #1'],
      [4, 'mov r1, #2'],
      [4, 'mov r2, #3'],
      [5, "mov r3, #'#'"],
      [6, '.ascii "@;#//"'],
    ]);
    expect(toHex(prog.sections[0]!.bytes.slice(12, 16))).toBe('2330a0e3');
    expect(Buffer.from(prog.sections[0]!.bytes.slice(16, 21)).toString()).toBe('@;#//');
    // GNU as pads an ARM code section to a whole word.
    expect(prog.sections[0]!.size).toBe(24);
  });

  it('treats .align as a power of two on ARM and a byte count on i386', () => {
    const arm = assembleProgram('.data\n.byte 1\n.align 3\nx: .byte 2\n', { arch: 'arm' });
    expect(arm.symbols.get('x')! % 8).toBe(0);
    expect(arm.symbols.get('x')! - arm.sections[1]!.addr).toBe(8);
    const x86 = assembleProgram('.data\n.byte 1\n.align 8\nx: .byte 2\n', { arch: 'x86' });
    expect(x86.symbols.get('x')! - x86.sections[1]!.addr).toBe(8);
  });
});

describe('errors', () => {
  const err = (source: string, arch: Arch = 'arm'): GasError => {
    try {
      assembleProgram(source, { arch, fileName: 'bad.s' });
    } catch (e) {
      if (e instanceof GasError) return e;
      throw new Error(`expected a GasError, got ${String(e)}`);
    }
    throw new Error('expected a GasError, but the program assembled');
  };

  it('names file, line and text in the message', () => {
    const e = err('mov r0, #1\n  .frobnicate 3\n');
    expect(e.file).toBe('bad.s');
    expect(e.line).toBe(2);
    expect(e.text).toBe('  .frobnicate 3');
    expect(e.message).toBe("bad.s:2: unknown directive '.frobnicate'\n    .frobnicate 3");
  });

  it('reports unknown instructions with keystone’s reason', () => {
    const e = err('nop\nnop\nfrob r0, r1\n');
    expect(e.line).toBe(3);
    // keystone's reason follows, e.g. "Invalid mnemonic (KS_ERR_ASM_MNEMONICFAIL)".
    expect(e.message).toMatch(/^bad\.s:3: cannot assemble `frob r0, r1': \S/);
    expect(err('movl $1, %eax\nfoo %eax\n', 'x86').line).toBe(2);
  });

  it('reports undefined symbols and local labels', () => {
    expect(err('nop\nldr r0, =nothere\n').message).toMatch(/^bad\.s:2: undefined symbol `nothere'/);
    expect(err('b missing\n').message).toMatch(/^bad\.s:1: undefined symbol `missing'/);
    expect(err('.data\n.word 1, gone\n').message).toMatch(/^bad\.s:2: undefined symbol `gone'/);
    expect(err('nop\nnop\n  b 1f\n').message).toMatch(/^bad\.s:3: undefined local label `1f'/);
    expect(err('b 1b\n1: nop\n').message).toMatch(/^bad\.s:1: undefined local label `1b'/);
    expect(err('movl $nowhere, %eax\n', 'x86').message).toMatch(/^bad\.s:1: undefined symbol `nowhere'/);
    expect(err('jmp nowhere\n', 'x86').message).toMatch(/^bad\.s:1: undefined symbol `nowhere'/);
  });

  it('reports duplicate labels', () => {
    const e = err('start: nop\nnop\nstart: nop\n');
    expect(e.line).toBe(3);
    expect(e.message).toMatch(/symbol `start' is already defined \(at line 1\)/);
    expect(err('x = 1\nx: nop\n').message).toMatch(/^bad\.s:2: symbol `x' is already defined/);
  });

  it('reports bad expressions', () => {
    expect(err('.data\n.word 1 +\n').message).toMatch(/^bad\.s:2: bad expression/);
    expect(err('.equ X, (1 + 2\n').message).toMatch(/^bad\.s:1: bad expression/);
    expect(err('.data\n.word 12abc\n').message).toMatch(/^bad\.s:2: bad number '12abc'/);
    expect(err('.data\n.space 4 / 0\n').message).toMatch(/^bad\.s:2: division by zero/);
  });

  it('reports values out of range', () => {
    expect(err('.data\n.byte 256\n').message).toMatch(/^bad\.s:2: value 256 \(0x100\) out of range for a 1-byte field/);
    expect(err('.data\n.hword -32769\n').line).toBe(2);
    expect(err('nop\nb 0x8000000\n').message).toMatch(/^bad\.s:2: branch out of range/);
    expect(err('.thumb\ncbz r0, 1f\n.space 200\n1: nop\n').message).toMatch(/^bad\.s:2: branch out of range: cbz/);
    expect(err('loop 1f\n.space 200\n1: nop\n', 'x86').message).toMatch(/^bad\.s:1: branch out of range: loop/);
    expect(err('ldr r0, =0x12345678\n.space 5000\n').message).toMatch(/^bad\.s:1: literal pool out of range/);
    expect(err('adr r0, 1f\n.space 0x1011\n.align 2\n1: nop\n').message).toMatch(/^bad\.s:1: adr offset \d+ cannot be encoded/);
  });

  it('stops a layout that never settles instead of hanging', () => {
    const e = err('a: .space b - a + 1\nb: nop\n');
    expect(e.message).toMatch(/^bad\.s:1: layout did not converge/);
  });

  it('never lets a raw exception escape', () => {
    for (const src of ['.word "str"', '.ascii 5', '.section .weird', 'ldr r0, =', 'mov r0, #', '.align 100', '.space -1', '.byte 1,,2']) {
      expect(err(src)).toBeInstanceOf(GasError);
    }
  });
});
