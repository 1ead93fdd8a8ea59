@ write(1, "hello\n", 6); exit(3)
        .syntax unified
        .text
        .global _start
_start:
        mov     r0, #1
        ldr     r1, =msg
        mov     r2, #len
        mov     r7, #4          @ __NR_write
        svc     #0
        mov     r0, #3
        mov     r7, #1          @ __NR_exit
        svc     #0
        .ltorg
        .data
msg:    .ascii  "hello\n"
        .equ    len, . - msg
