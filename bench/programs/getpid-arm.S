@ Syscall round trip: ITERS getpid() calls in a loop, then exit(0).
@ ITERS is defined by the bench runner (a `.equ ITERS, N` line is put in front).
        .syntax unified
        .text
        .global _start
_start:
        ldr     r4, =ITERS
        cmp     r4, #0
        beq     2f
1:      mov     r7, #20         @ __NR_getpid
        svc     #0
        subs    r4, r4, #1
        bne     1b
2:      mov     r0, #0
        mov     r7, #1          @ __NR_exit
        svc     #0
        .ltorg
