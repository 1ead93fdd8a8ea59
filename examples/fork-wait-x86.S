# fork + wait4 with no libc (i386): what glibc's fork() and a parent's
# waitpid() boil down to. Run it:  trapdoor run examples/fork-wait-x86.S --arch x86; echo $?
# → 42: the child's exit status, passed on by the parent.
#
# i386 syscalls: number in %eax, arguments in %ebx, %ecx, %edx, %esi, %edi, %ebp,
# `int $0x80`, result in %eax (-errno on failure). i386's clone takes
# CLONE_BACKWARDS order: clone(flags, newsp, parent_tidptr, tls, child_tidptr).

        .text
        .global _start
_start:
        movl    $120, %eax              # __NR_clone
        movl    $0x01200011, %ebx       # CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD: glibc's fork flags
        xorl    %ecx, %ecx              # newsp 0: the child runs on a copy-on-write copy of this stack
        xorl    %edx, %edx              # parent_tidptr (unused without CLONE_PARENT_SETTID)
        xorl    %esi, %esi              # tls (unused without CLONE_SETTLS)
        xorl    %edi, %edi              # child_tidptr: NULL here, so neither SETTID nor CLEARTID stores anything
        int     $0x80
        testl   %eax, %eax
        je      child                   # 0 in the child, the child's pid in the parent
        js      failed                  # -errno: no child was created
parent:
        movl    $114, %eax              # wait4(-1, &status, 0, NULL): sleep until any child is a zombie
        movl    $-1, %ebx
        movl    $status, %ecx
        xorl    %edx, %edx
        xorl    %esi, %esi
        int     $0x80
        testl   %eax, %eax
        js      failed
        movl    status, %ebx
        shrl    $8, %ebx                # WEXITSTATUS(status) = (status >> 8) & 0xff
        andl    $0xff, %ebx
        movl    $252, %eax              # exit_group(WEXITSTATUS(status))
        int     $0x80
child:
        movl    $252, %eax              # exit_group(42): the parent's wait4 gets status 42 << 8
        movl    $42, %ebx
        int     $0x80
failed:
        movl    $252, %eax              # exit_group(1) if clone or wait4 failed
        movl    $1, %ebx
        int     $0x80

        .data
        .align  4
status: .long   0                       # wait4 stores the child's wait status here
