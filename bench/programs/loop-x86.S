# Raw guest speed: ITERS turns of a 3-instruction loop (add, sub, jnz), then exit(0).
# ITERS is defined by the bench runner (a `.equ ITERS, N` line is put in front).
        .text
        .global _start
_start:
        movl    $ITERS, %ecx
        xorl    %edx, %edx
        testl   %ecx, %ecx
        jz      2f
1:      addl    $3, %edx
        subl    $1, %ecx
        jnz     1b
2:      movl    $1, %eax        # __NR_exit
        xorl    %ebx, %ebx
        int     $0x80
