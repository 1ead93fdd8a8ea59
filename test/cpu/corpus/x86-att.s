# i386 instructions in AT&T syntax (GNU as style), typical of syscall wrappers and of the
# old arch/x86/kernel/entry_32.S, one per line, compared byte for byte with GNU as by
# test/cpu/asm-golden.test.ts.
#
# The whole file is assembled once by GNU as (with a label before every line) and linked
# with `ld -Ttext=0`; keystone then assembles every line alone at the address GNU gave it.
# So branches with numeric targets (`jmp 0x1000`) are compared too: in both assemblers a
# numeric target is an absolute address. GNU always uses rel32 for them (the target is a
# relocation it never relaxes), keystone the short rel8 form when the target is in reach.
# The first two lines are such near jumps (they must stay first: their addresses matter);
# they are listed in KNOWN_DIFFERENCES in the test, which checks they still decode to the
# same jump. Every other numeric target below is out of rel8 reach, where both agree.
# Decimal numbers are here on purpose: they are what keystone's radix bug gets wrong.
# Comments start with #.

# position-sensitive near jumps (keep first)
jmp 0x10
je 0x20

# glibc syscall stubs (i386 _Fork, exit_group, ...)
movl $120, %eax
movl $252, %eax
movl $0x01200011, %ebx
movl $18874385, %ebx
xorl %ecx, %ecx
xorl %edx, %edx
xorl %esi, %esi
movl %gs:8, %edx
leal 104(%edx), %edi
call *%gs:0x10
call *%gs:16
int $0x80
int $128
cmpl $-4095, %eax
cmpl $0xfffff001, %eax
negl %eax
ret

# entry_32.S system_call: SAVE_ALL, GET_THREAD_INFO, table call
pushl %eax
cld
pushl %gs
pushl %fs
pushl %es
pushl %ds
pushl %ebp
pushl %edi
pushl %esi
pushl %edx
pushl %ecx
pushl %ebx
movl $0x7b, %edx
movl $123, %edx
movl %edx, %ds
movl %edx, %es
movl $0xd8, %edx
movl %edx, %fs
movl $-8192, %ebp
andl %esp, %ebp
movl $-8192, %eax
andl %esp, %eax
testl $0x10000, 8(%ebp)
cmpl $349, %eax
call *0x1000(,%eax,4)
call *0xc0001000(,%eax,4)
movl %eax, 24(%esp)
movl %eax, 0x18(%esp)

# RESTORE_ALL and return
cli
movl 8(%ebp), %ecx
testl $0xffff, %ecx
popl %ebx
popl %ecx
popl %edx
popl %esi
popl %edi
popl %ebp
popl %eax
popl %ds
popl %es
popl %fs
popl %gs
addl $4, %esp
iret
sti

# memory operands: base + index*scale + displacement, negative and decimal displacements
movl 4(%esp), %eax
movl 12(%esp), %ebx
movl -4(%ebp), %eax
movl -8192(%ebp), %eax
movl 8(%ebx,%ecx,4), %eax
movl (%eax,%ebx), %ecx
movl 0x1000(,%eax,4), %edx
movl 12(%esp,%eax,8), %edx
movl (%eax), %eax
movl %eax, (%ebx)
leal 4(%esp), %eax
leal -8(%ebp,%esi,2), %edi
leal (%eax,%eax,2), %eax
movb $1, (%eax)
movb $-1, 3(%ebx)
movb %al, 3(%ebx)
movw $0x7b, %ax
movw $123, %ax
mov %eax, %ebx
movzbl (%esi), %eax
movzbl %al, %eax
movzwl 2(%esi), %eax
movsbl %al, %eax

# immediates: negative, decimal, hex, octal, binary; 8- and 32-bit forms
andl $-16, %esp
andl $0xfffffff0, %esp
orl $0x20, %eax
orl $512, %eax
xorl %eax, %eax
subl $72, %esp
addl $-4, %esp
addl $127, %eax
addl $128, %eax
addl $-128, %eax
movl $010, %eax
movl $0b101, %eax
incl %eax
decl %ecx
notl %eax
shrl $8, %ebx
shll $13, %eax
sarl $31, %eax
testl %eax, %eax
testb $1, %al
cmpl %eax, %ebx
cmpb $10, (%esi)
pushl $0
pushl $-1
pushl $0x202
pushl $1000
pushl 8(%esp)
pushfl
popfl

# calls and jumps (numeric targets are absolute)
call 0x2000
call *%eax
call *8(%esp)
jmp *%eax
jmp *0x1000(,%eax,4)
jmp 0x1000
jne 0x0
jae 0x1000

# system instructions
movl %cr0, %eax
movl %eax, %cr3
movl %esp, %ebp
movl %ds, %edx
hlt
nop
int3
int $3
xchgl %eax, %ebx
lock cmpxchgl %ecx, (%edx)
lock incl (%eax)
rep movsl
rep stosb
