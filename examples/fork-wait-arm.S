@ fork + wait4 with no libc (ARM EABI): what glibc's fork() and a parent's
@ waitpid() boil down to. Run it:  trapdoor run examples/fork-wait-arm.S --arch arm; echo $?
@ → 42: the child's exit status, passed on by the parent.
@
@ EABI syscalls: number in r7, arguments in r0-r6, `svc #0`, result in r0
@ (-errno on failure). ARM's clone takes CLONE_BACKWARDS order:
@ clone(flags, newsp, parent_tidptr, tls, child_tidptr).

        .syntax unified
        .arm
        .text
        .global _start
_start:
        ldr     r0, =0x01200011         @ CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD: glibc's fork flags
        mov     r1, #0                  @ newsp 0: the child runs on a copy-on-write copy of this stack
        mov     r2, #0                  @ parent_tidptr (unused without CLONE_PARENT_SETTID)
        mov     r3, #0                  @ tls (unused without CLONE_SETTLS)
        mov     r4, #0                  @ child_tidptr: NULL here, so neither SETTID nor CLEARTID stores anything
        mov     r7, #120                @ __NR_clone
        svc     #0
        cmp     r0, #0
        beq     child                   @ 0 in the child, the child's pid in the parent
        blt     failed                  @ -errno: no child was created
parent:
        mvn     r0, #0                  @ wait4(-1, &status, 0, NULL): sleep until any child is a zombie
        ldr     r1, =status
        mov     r2, #0
        mov     r3, #0
        mov     r7, #114                @ __NR_wait4
        svc     #0
        cmp     r0, #0
        blt     failed
        ldr     r1, =status
        ldr     r0, [r1]
        lsr     r0, r0, #8              @ WEXITSTATUS(status) = (status >> 8) & 0xff
        and     r0, r0, #0xff
        mov     r7, #248                @ exit_group(WEXITSTATUS(status))
        svc     #0
child:
        mov     r0, #42                 @ exit_group(42): the parent's wait4 gets status 42 << 8
        mov     r7, #248                @ __NR_exit_group
        svc     #0
failed:
        mov     r0, #1                  @ exit_group(1) if clone or wait4 failed
        mov     r7, #248
        svc     #0
        .ltorg

        .data
        .align  2
status: .word   0                       @ wait4 stores the child's wait status here
