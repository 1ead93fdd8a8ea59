@ ARM (A32) instructions typical of syscall wrappers and kernel entry code, one per line,
@ compared byte for byte with GNU as by test/cpu/asm-golden.test.ts.
@
@ The whole file is assembled once by GNU as (with a label before every line) and linked
@ with `ld -Ttext=0`; keystone then assembles every line alone at the address GNU gave it.
@ So branches with numeric targets (`b 0x100`) are compared too: in both assemblers a
@ numeric target is an absolute address, and both encode it pc-relative from the same place.
@ Literal-pool loads (`ldr r0, =X`) are left out: GNU puts the pool at the end of the
@ section, keystone right after the instruction; test/cpu/keystone.test.ts covers them.
@ Comments start with @; `.syntax unified` is in force (keystone speaks unified syntax).

@ glibc syscall stubs (_Fork, exit_group, set_tls, ...)
mov r7, #120
mov r7, #248
mov r7, #0xf0000
movw r7, #5
movt r7, #0xf
ldr r0, [pc, #88]
mov r1, #0
mov r2, #0
mov r3, #0
add r4, r5, #104
svc #0
svc 0
svc #0x900001
cmn r0, #4096
cmn r0, #0x1000
rsb r0, r0, #0
mvn r0, #0
mvn r1, #11
mov r0, #-1
bx lr

@ vector_swi: build pt_regs, find thread_info, index the syscall table
sub sp, sp, #72
stmia sp, {r0 - r12}
add r8, sp, #60
stmdb r8, {sp, lr}^
mrs r8, spsr
str lr, [sp, #60]
str r8, [sp, #64]
str r0, [sp, #68]
mov fp, #0
mov r9, sp, lsr #13
mov r9, r9, lsl #13
lsr r9, sp, #13
lsl r9, r9, #13
ldr r10, [r9]
ldr r10, [r9, #0]
cmp r7, #400
cmp r7, #0x190
ldrcc pc, [r8, r7, lsl #2]
add lr, pc, #4

@ ret_fast_syscall / restore_user_regs
ldr r1, [r9]
tst r1, #0xff
tst r1, #255
ldr r1, [sp, #64]
ldr lr, [sp, #60]!
msr spsr_cxsf, r1
ldmdb sp, {r0 - lr}^
ldmia sp, {r1 - lr}^
add sp, sp, #72
movs pc, lr
subs pc, lr, #4

@ mode and status registers
mrs r0, cpsr
mrs r0, spsr
msr cpsr_c, #0xd3
msr cpsr_c, #211
msr cpsr_c, r0
msr spsr_fsxc, r0
bic r0, r0, #0x1f
bic r0, r0, #31
bic r9, sp, #0x1fc0
orr r0, r0, #0x13
orr r0, r0, #0xc0
cpsid i
cpsie i

@ stack and block transfers
push {r4, r7, lr}
pop {r4, r7, pc}
push {r0-r3}
pop {r0-r3}
push {lr}
pop {pc}
stmfd sp!, {r4-r11, lr}
ldmfd sp!, {r4-r11, pc}
ldmia sp!, {r0-r3}
stmdb sp!, {r0, r1}
stmia r0!, {r1, r2}
ldmia r0!, {r1, r2}

@ pre- and post-indexed memory operands, negative and register offsets
ldr r0, [r1, #-4]!
ldr r0, [r1], #-4
ldr r0, [r1], #4
ldr r0, [r1, #4095]
ldr r0, [r1, #-4095]
str r0, [r1, #4]!
str r0, [r1], r2
ldr r0, [r1, -r2]
ldr r0, [r1, r2, lsl #2]!
ldr r0, [r1], r2, lsl #2
ldrb r2, [r0], #1
strb r2, [r1], #1
ldrh r0, [r1, #2]
strh r0, [r1, #-2]
ldrsb r0, [r1, #1]
ldrd r0, r1, [r2, #8]
ldr pc, [sp], #4

@ arithmetic and compare
add r0, r0, #1
add r0, r1, r2, lsl #2
add r0, r0, #0x10000
sub r0, r0, #1
subs r0, r0, #1
sub sp, sp, #8
rsb r0, r1, #32
rsbs r0, r0, #0
and r0, r0, #0xff
eor r0, r0, r0
mul r0, r1, r2
cmp r0, #0
cmp r0, #-1
cmp r0, r1
tst r0, #1
teq r0, #0
cmp r0, r1, lsr #1

@ branches to numeric (absolute) targets, and register branches
b 0x100
bl 0x200
blx 0x300
beq 0x40
bne 0x8000
bgt 0x0
blx r3
bx r12
mov pc, lr
movne pc, r5

@ coprocessor (TLS register), exclusives, barriers
mcr p15, 0, r0, c13, c0, 3
mrc p15, 0, r0, c13, c0, 3
ldrex r0, [r1]
strex r2, r0, [r1]
dmb ish
dmb sy
nop
wfi
