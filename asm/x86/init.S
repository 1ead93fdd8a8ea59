# /sbin/init for the modelled kernel (i386 user space, no libc).
# Starts /bin/program as a child and reaps every child forever, as init must:
# orphans are reparented to pid 1 and only init's wait4 frees them.

        .text
        .global _start
_start:
        movl    $120, %eax              # __NR_clone
        movl    $17, %ebx               # clone(SIGCHLD, 0, 0, 0, 0) == fork()
        xorl    %ecx, %ecx
        xorl    %edx, %edx
        xorl    %esi, %esi
        xorl    %edi, %edi
        int     $0x80
        testl   %eax, %eax
        je      child
reap:
        movl    $114, %eax              # wait4(-1, NULL, 0, NULL)
        movl    $-1, %ebx
        xorl    %ecx, %ecx
        xorl    %edx, %edx
        xorl    %esi, %esi
        int     $0x80
        cmpl    $-10, %eax              # -ECHILD: nobody left to reap
        jne     reap
        movl    $29, %eax               # pause(): sleep until something happens
        int     $0x80
        jmp     reap
child:
        movl    $11, %eax               # execve("/bin/program", argv, NULL)
        movl    $path, %ebx
        movl    $argv, %ecx
        xorl    %edx, %edx
        int     $0x80
        movl    $1, %eax                # exec failed: exit(127), as a shell would
        movl    $127, %ebx
        int     $0x80

        .data
path:   .asciz  "/bin/program"
        .align  4
argv:   .long   path, 0
