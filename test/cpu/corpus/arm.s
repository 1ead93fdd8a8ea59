@ ARM instructions typical of syscall wrappers and kernel entry code.
@ Each line is assembled alone at address 0 by keystone and by GNU as + ld -Ttext=0.
mov r7, #120
mov r0, #0
mov r1, #1
mov r2, #0x1000
mvn r0, #0
mvn r1, #9
mov r0, r4
movs r0, r0
mov r9, sp, lsr #13
mov r9, r9, lsl #13
mov r0, r1, asr #2
ldr r0, [r1]
ldr r0, [r1, #4]
ldr r0, [r1, #-4]
ldr r0, [r1, #4]!
ldr r0, [r1], #4
ldr r1, [sp, #64]
ldr lr, [sp, #60]!
ldr r10, [r9, #12]
ldrb r0, [r1, #1]
ldrh r0, [r1, #2]
ldr r0, [r1, r2]
ldr r0, [r1, r2, lsl #2]
ldrcc pc, [r8, r7, lsl #2]
str r0, [r1]
str r0, [sp, #68]
str lr, [sp, #60]
str r8, [sp, #64]
strb r0, [r1, #3]
strh r0, [r1, #2]
str r0, [r1, #-8]!
stmia sp, {r0 - r12}
stmdb r8, {sp, lr}^
ldmdb sp, {r1 - lr}^
ldmia sp!, {r4, r5}
stmdb sp!, {r4, r5}
push {r4, lr}
pop {r4, pc}
push {r0-r3}
pop {r0-r3}
bic r0, r0, #0x1f
bic r9, sp, #8128
orr r0, r0, #0x13
and r0, r0, #0xff
eor r0, r0, r0
lsr r0, r0, #8
lsl r1, r1, #2
add r8, sp, #60
add r0, r0, #1
add r0, r1, r2
sub sp, sp, #72
sub r0, r0, #1
rsb r0, r0, #0
add sp, sp, #12
cmp r7, #120
cmp r0, #0
cmn r0, #10
cmp r0, r1
tst r1, #0x20
teq r0, #0
svc #0
svc 0
mrs r8, spsr
mrs r0, cpsr
msr spsr_cxsf, r1
msr cpsr_c, #0xd3
movs pc, lr
bx lr
blx r5
mov pc, lr
movne pc, r5
b 0x100
bl 0x200
beq 0x40
bne 0x0
mul r0, r1, r2
ldrex r0, [r1]
strex r2, r0, [r1]
dmb ish
nop
