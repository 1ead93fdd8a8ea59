# write(1, "hello\n", 6); exit(3)
        .text
        .global _start
_start:
        movl    $4, %eax        # __NR_write
        movl    $1, %ebx
        movl    $msg, %ecx
        movl    $len, %edx
        int     $0x80
        movl    $1, %eax        # __NR_exit
        movl    $3, %ebx
        int     $0x80
        .data
msg:    .ascii  "hello\n"
        len = . - msg
