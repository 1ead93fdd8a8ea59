# i386 instructions in Intel syntax (GNU `.intel_syntax noprefix`), compared byte for byte
# with GNU as by test/cpu/asm-golden.test.ts. Smaller than x86-att.s: the Intel engine never
# has ks_option called, so the radix bug does not reach it; this corpus proves that.
# Assembled like the other corpora: one GNU run with a label per line, keystone per line at
# the same address. Comments start with #.
mov eax, 120
mov eax, -8192
and eax, esp
mov ebp, -8192
and ebp, esp
mov ebx, 0x01200011
xor ecx, ecx
int 0x80
int 128
call dword ptr gs:[0x10]
call dword ptr gs:[16]
mov eax, dword ptr [esp+4]
mov eax, dword ptr [esp+12]
mov eax, dword ptr [ebp-8192]
mov eax, dword ptr [ebx+ecx*4+8]
mov dword ptr [esp+24], eax
call dword ptr [eax*4+0x1000]
lea eax, [esp+4]
lea edi, [ebp+esi*2-8]
movzx eax, byte ptr [esi]
push 0
push -1
push 1000
pop ebx
cmp eax, 349
cmp eax, -4095
sub esp, 72
add esp, -4
and esp, -16
shr ebx, 8
test eax, eax
iretd
ret
