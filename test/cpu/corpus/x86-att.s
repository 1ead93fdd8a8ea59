# i386 AT&T instructions typical of syscall wrappers and kernel entry code.
# Each line is assembled alone at address 0 by keystone and by GNU as + ld -Ttext=0.
movl $-8192, %eax
movl $-8192, %ebp
andl %esp, %eax
andl %esp, %ebp
movl $20, %eax
movl $120, %eax
movl $0x01200011, %ebx
movl $252, %eax
movl $1, %ebx
movl $-1, %ebx
movl $0, %ecx
xorl %ecx, %ecx
xorl %eax, %eax
movl %eax, %ebx
movl %esp, %ebp
movl 4(%esp), %eax
movl 12(%esp), %ebx
movl -4(%ebp), %eax
movl 0x18(%esp), %eax
movl %eax, 24(%esp)
movl %eax, 0x18(%esp)
movl 48(%esp), %ecx
movl (%eax), %eax
movl %eax, (%ebx)
movl 8(%ebx,%ecx,4), %eax
movl 0x1000(,%eax,4), %edx
movb $1, (%eax)
movb %al, 3(%ebx)
movw $0x7b, %ax
movzbl (%esi), %eax
movzwl 2(%esi), %eax
movsbl %al, %eax
leal 4(%esp), %eax
leal -8(%ebp), %esi
leal (%eax,%ebx,2), %ecx
leal 0x1c(%esp), %ecx
pushl %eax
pushl %ebp
pushl $0
pushl $0x202
pushl 8(%esp)
pushl %gs
pushl %fs
pushl %es
pushl %ds
popl %eax
popl %ebx
popl %ds
popl %es
popfl
pushfl
int $0x80
int $128
int $3
call *0x1000(,%eax,4)
call *%eax
call *%gs:0x10
call *8(%esp)
ret
iret
cmpl $399, %eax
cmpl $-10, %eax
cmpl %eax, %ebx
testl %eax, %eax
testb $1, %al
orl $0x20, %eax
addl $4, %esp
subl $72, %esp
addl $-4, %esp
incl %eax
decl %ecx
negl %eax
notl %eax
shrl $8, %ebx
shll $4, %esi
sarl $1, %eax
cld
cli
sti
nop
jmp 0x10
jmp 0x1000
call 0x2000
je 0x20
jne 0x0
jae 0x400
movl %edx, %ds
movl %ds, %edx
