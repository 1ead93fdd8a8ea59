@ The fork demo: glibc 2.36's ARM fork sequence, then wait4 in the parent.
        .syntax unified
        .arm
        .text
        .global _start
_start:
        ldr     r0, =0x01200011         @ CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD (glibc's _Fork)
        mov     r1, #0                  @ newsp: same stack (COW)
        mov     r2, #0                  @ parent_tidptr
        mov     r3, #0                  @ tls
        ldr     r4, =tid                @ child_tidptr = &pd->tid
        mov     r7, #120                @ __NR_clone
        svc     #0
        cmp     r0, #0
        beq     child
parent:
        mvn     r0, #0                  @ wait4(-1, &status, 0, NULL)
        ldr     r1, =status
        mov     r2, #0
        mov     r3, #0
        mov     r7, #114                @ __NR_wait4
        svc     #0
        ldr     r1, =status
        ldr     r0, [r1]
        lsr     r0, r0, #8              @ WEXITSTATUS(status)
        mov     r7, #248                @ exit_group(WEXITSTATUS)
        svc     #0
child:
        ldr     r1, =counter            @ the child's first store breaks copy-on-write
        mov     r2, #1
        str     r2, [r1]
        mov     r0, #1                  @ write(1, msg, len)
        ldr     r1, =msg
        mov     r2, #len
        mov     r7, #4
        svc     #0
        mov     r0, #42                 @ exit_group(42)
        mov     r7, #248
        svc     #0
        .ltorg

        .data
msg:    .ascii  "hello from the child\n"
        .equ    len, . - msg
        .align  2
tid:    .word   0
status: .word   0
counter: .word  0
