@ Thumb-2 instructions (syscall stubs and entry code as a Thumb-2 kernel/libc writes them),
@ compared byte for byte with GNU as by test/cpu/asm-golden.test.ts. Assembled like arm.s:
@ one GNU run (`.syntax unified`, `.thumb`) with a label per line, linked at 0; keystone
@ assembles each line alone at the address GNU gave it, so numeric (absolute) branch targets
@ are compared too (`cbz`, which only branches forward from its own address, is left to
@ test/cpu/keystone.test.ts). Where GNU and keystone pick different but equivalent
@ encodings, or keystone gets a line wrong, the line stays and is listed in
@ KNOWN_DIFFERENCES in the test. Comments start with @.

@ syscall stubs
movs r7, #120
movs r7, #248
mov.w r7, #0xf0000
movw r7, #5
movt r7, #0xf
mov r0, r4
movs r1, #0
svc #0
svc 0
cmn.w r0, #4096
rsbs r0, r0, #0
mvn.w r0, #0
bx lr
blx r3

@ loads and stores
ldr r0, [r1]
ldr r0, [r1, #4]
ldr.w r0, [r1, #-4]
ldr r0, [r1, #-4]
ldr r0, [r1, #4]!
ldr r0, [r1], #4
ldr r1, [sp, #64]
str r0, [sp, #68]
ldr.w r0, [r1, r2, lsl #2]
ldrb r2, [r0, #1]
strh r0, [r1, #2]
ldrd r0, r1, [r2, #8]
push {r4, r7, lr}
pop {r4, r7, pc}
push.w {r4-r11, lr}
pop.w {r4-r11, pc}
stmdb sp!, {r0, r1}
ldmia.w sp!, {r0, r1}

@ arithmetic and compare
adds r0, r0, #1
adds r0, #1
add.w r0, r1, r2, lsl #2
subs r0, r0, #1
subs r0, #1
sub sp, #8
sub.w sp, sp, #72
lsrs r0, r1, #13
lsls r0, r0, #13
bic r0, r0, #0x1f
orr r0, r0, #0x13
cmp r7, #120
cmp.w r7, #400
cmp r0, r1
tst.w r1, #0xff

@ status registers and system
mrs r0, apsr
msr apsr_nzcvq, r0
cpsid i
cpsie i
dmb ish
ldrex r0, [r1]
strex r2, r0, [r1]
mrc p15, 0, r0, c13, c0, 3
nop
wfi

@ branches to numeric (absolute) targets
b.w 0x1000
bl 0x2000
blx 0x3000
beq.w 0x4000
