# Syscall round trip: ITERS getpid() calls in a loop, then exit(0).
# ITERS is defined by the bench runner (a `.equ ITERS, N` line is put in front).
        .text
        .global _start
_start:
        movl    $ITERS, %esi
        testl   %esi, %esi
        jz      2f
1:      movl    $20, %eax       # __NR_getpid
        int     $0x80
        subl    $1, %esi
        jnz     1b
2:      movl    $1, %eax        # __NR_exit
        xorl    %ebx, %ebx
        int     $0x80
