@ Raw guest speed: ITERS turns of a 3-instruction loop (add, subs, bne), then exit(0).
@ ITERS is defined by the bench runner (a `.equ ITERS, N` line is put in front).
        .syntax unified
        .text
        .global _start
_start:
        ldr     r4, =ITERS
        mov     r5, #0
        cmp     r4, #0
        beq     2f
1:      add     r5, r5, #3
        subs    r4, r4, #1
        bne     1b
2:      mov     r0, #0
        mov     r7, #1          @ __NR_exit
        svc     #0
        .ltorg
