# Process life cycle: ITERS times clone(SIGCHLD) (= fork), the child calls
# exit_group(0), the parent reaps it with wait4(pid, &status, 0, NULL).
# Exits 0 if every wait4 returned the child's pid with status 0, else 1 or 2.
# ITERS is defined by the bench runner (a `.equ ITERS, N` line is put in front).
        .text
        .global _start
_start:
        movl    $ITERS, %ebp
        testl   %ebp, %ebp
        jz      done
loop:   movl    $120, %eax      # __NR_clone
        movl    $17, %ebx       # SIGCHLD: plain fork semantics
        xorl    %ecx, %ecx      # child runs on a copy of this stack
        xorl    %edx, %edx
        xorl    %esi, %esi
        xorl    %edi, %edi
        int     $0x80
        testl   %eax, %eax
        jz      child
        js      fail
        movl    %eax, %ebx      # wait4(pid, &status, 0, NULL)
        movl    %eax, %edi      # keep the pid (edi survives the syscall)
        movl    $114, %eax      # __NR_wait4
        movl    $status, %ecx
        xorl    %edx, %edx
        xorl    %esi, %esi
        int     $0x80
        cmpl    %edi, %eax
        jne     fail
        cmpl    $0, status
        jne     bad
        subl    $1, %ebp
        jnz     loop
done:   movl    $1, %eax        # __NR_exit
        xorl    %ebx, %ebx
        int     $0x80
child:  movl    $252, %eax      # __NR_exit_group
        xorl    %ebx, %ebx
        int     $0x80
fail:   movl    $1, %eax
        movl    $1, %ebx
        int     $0x80
bad:    movl    $1, %eax
        movl    $2, %ebx
        int     $0x80
        .data
status: .long   0xffffffff
