@ Process life cycle: ITERS times clone(SIGCHLD) (= fork), the child calls
@ exit_group(0), the parent reaps it with wait4(pid, &status, 0, NULL).
@ Exits 0 if every wait4 returned the child's pid with status 0, else 1 or 2.
@ ITERS is defined by the bench runner (a `.equ ITERS, N` line is put in front).
        .syntax unified
        .text
        .global _start
_start:
        ldr     r6, =ITERS
        cmp     r6, #0
        beq     done
loop:   mov     r0, #17         @ SIGCHLD: plain fork semantics
        mov     r1, #0          @ child runs on a copy of this stack
        mov     r2, #0
        mov     r3, #0
        mov     r4, #0
        mov     r7, #120        @ __NR_clone
        svc     #0
        cmp     r0, #0
        beq     child
        blt     fail
        mov     r8, r0          @ child's pid
        ldr     r1, =status
        mov     r2, #0
        mov     r3, #0
        mov     r7, #114        @ __NR_wait4
        svc     #0
        cmp     r0, r8
        bne     fail
        ldr     r1, =status
        ldr     r1, [r1]
        cmp     r1, #0
        bne     bad
        subs    r6, r6, #1
        bne     loop
done:   mov     r0, #0
        mov     r7, #1          @ __NR_exit
        svc     #0
child:  mov     r0, #0
        mov     r7, #248        @ __NR_exit_group
        svc     #0
fail:   mov     r0, #1
        mov     r7, #1
        svc     #0
bad:    mov     r0, #2
        mov     r7, #1
        svc     #0
        .ltorg
        .data
status: .word   0xffffffff
