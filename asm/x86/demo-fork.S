# The fork demo: the i386 equivalent of glibc's fork (flags in %ebx), then wait4.
        .text
        .global _start
_start:
        movl    $120, %eax              # __NR_clone
        movl    $0x01200011, %ebx       # CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD
        xorl    %ecx, %ecx              # newsp: same stack (COW)
        xorl    %edx, %edx              # parent_tidptr
        xorl    %esi, %esi              # tls
        movl    $tid, %edi              # child_tidptr
        int     $0x80
        testl   %eax, %eax
        je      child
parent:
        movl    $114, %eax              # wait4(-1, &status, 0, NULL)
        movl    $-1, %ebx
        movl    $status, %ecx
        xorl    %edx, %edx
        xorl    %esi, %esi
        int     $0x80
        movl    status, %ebx
        shrl    $8, %ebx                # WEXITSTATUS(status)
        movl    $252, %eax              # exit_group
        int     $0x80
child:
        movl    $1, counter             # the child's first store breaks copy-on-write
        movl    $4, %eax                # write(1, msg, len)
        movl    $1, %ebx
        movl    $msg, %ecx
        movl    $len, %edx
        int     $0x80
        movl    $252, %eax              # exit_group(42)
        movl    $42, %ebx
        int     $0x80

        .data
msg:    .ascii  "hello from the child\n"
        len = . - msg
        .align  4
tid:    .long   0
status: .long   0
counter: .long  0
