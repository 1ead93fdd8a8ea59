@ /sbin/init for the modelled kernel (ARM EAPI user space, no libc).
@ Starts /bin/program as a child and reaps every child forever, as init must:
@ orphans are reparented to pid 1 and only init's wait4 frees them.

        .syntax unified
        .arm
        .text
        .global _start
_start:
        mov     r0, #17                 @ clone(SIGCHLD, 0, 0, 0, 0) == fork()
        mov     r1, #0
        mov     r2, #0
        mov     r3, #0
        mov     r4, #0
        mov     r7, #120                @ __NR_clone
        svc     #0
        cmp     r0, #0
        beq     child
reap:
        mvn     r0, #0                  @ wait4(-1, NULL, 0, NULL)
        mov     r1, #0
        mov     r2, #0
        mov     r3, #0
        mov     r7, #114                @ __NR_wait4
        svc     #0
        cmn     r0, #10                 @ -ECHILD: nobody left to reap
        bne     reap
        mov     r7, #29                 @ pause(): sleep until something happens
        svc     #0
        b       reap
child:
        ldr     r0, =path               @ execve("/bin/program", argv, NULL)
        ldr     r1, =argv
        mov     r2, #0
        mov     r7, #11                 @ __NR_execve
        svc     #0
        mov     r0, #127                @ exec failed: exit(127), as a shell would
        mov     r7, #1
        svc     #0
        .ltorg

        .data
path:   .asciz  "/bin/program"
        .align  2
argv:   .word   path, 0
