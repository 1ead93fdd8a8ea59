/*
 * asm/x86/entry_32.S — the i386 kernel entry path of trapdoor's modelled kernel.
 *
 * Written after Linux 3.x arch/x86/kernel/entry_32.S (system_call, ret_from_fork,
 * restore_all), trimmed to what this machine has: no sysenter, no syscall tracing,
 * no vm86, no lazy %gs, no paravirt. It is assembled at 0xC0100000 behind a prelude
 * of `.equ` lines the kernel generates:
 *
 *   - asm-offsets (TI_*, PT_*, THREAD_SIZE, __USER_DS, ENOSYS, …) from
 *     src/arch/x86/layout.ts, like Linux's asm-offsets_32.c;
 *   - gate addresses: sys_call_table, NR_syscalls, sys_ni_syscall, schedule_tail.
 *     A `call` that lands on a gate is caught by the kernel, which runs the C-level
 *     function in TypeScript and returns to the instruction after the call with the
 *     result in %eax (gateEnter/gateReturn in src/arch/x86/ops.ts).
 *
 * What the hardware does is done by TypeScript "hardware" (src/arch/x86/ops.ts),
 * because Unicorn runs everything at one privilege level:
 *   - `int $0x80` through the trap gate: switch to the kernel stack (TSS.esp0) and
 *     push ss, esp, eflags, cs, eip; then jump to system_call below;
 *   - the inter-privilege `iret` at irq_return: pop eip, cs, eflags, esp, ss.
 *
 * Stack layout in syscall_exit (struct pt_regs, offsets from %esp):
 *
 *	 0(%esp) - %ebx		PT_EBX
 *	 4(%esp) - %ecx		PT_ECX
 *	 8(%esp) - %edx		PT_EDX
 *	 C(%esp) - %esi		PT_ESI
 *	10(%esp) - %edi		PT_EDI
 *	14(%esp) - %ebp		PT_EBP
 *	18(%esp) - %eax		PT_EAX
 *	1C(%esp) - %ds		PT_DS
 *	20(%esp) - %es		PT_ES
 *	24(%esp) - %fs		PT_FS
 *	28(%esp) - %gs		PT_GS
 *	2C(%esp) - orig_eax	PT_ORIG_EAX
 *	30(%esp) - %eip		PT_EIP     \
 *	34(%esp) - %cs		PT_CS       |
 *	38(%esp) - %eflags	PT_EFLAGS   | pushed by the trap gate
 *	3C(%esp) - %oldesp	PT_OLDESP   |
 *	40(%esp) - %oldss	PT_OLDSS   /
 *
 * The selectors are real: the GDT (gdt_page below, Linux's 32-bit GDT layout) is
 * filled in by the arch code when it attaches to the CPU, so `movl %edx, %ds` with
 * __USER_DS and `popl %gs` with a TLS selector load real descriptors.
 */

	.text

/*
 * ret_from_fork: where a new child runs when it is switched in for the first time.
 * copy_thread pointed thread.ip here and thread.sp at its pt_regs (a copy of the
 * parent's, with eax = 0), so everything below works on the child's own kernel stack.
 */
ret_from_fork:
	pushl %eax			# prev (Linux: __switch_to's return value)
	call schedule_tail		# finish the switch: a gate into the C-level kernel
	/* GET_THREAD_INFO(%ebp) */
	movl $-8192, %ebp		# -THREAD_SIZE: clear the low 13 bits of…
	andl %esp, %ebp			# …the stack pointer: the thread_info at the stack base
	popl %eax
	pushl $0x0202			# Reset kernel eflags (IF, and bit 1 which always reads 1)
	popfl
	jmp syscall_exit		# return to user space through the child's pt_regs

/*
 * ret_from_kernel_thread: the first switch-in of a kernel thread. copy_thread left
 * the thread function in pt_regs->bx and its argument in pt_regs->bp.
 */
ret_from_kernel_thread:
	pushl %eax
	call schedule_tail
	/* GET_THREAD_INFO(%ebp) */
	movl $-8192, %ebp
	andl %esp, %ebp
	popl %eax
	pushl $0x0202			# Reset kernel eflags
	popfl
	movl PT_EBP(%esp), %eax		# the function's argument
	call *PT_EBX(%esp)		# the thread function (a gate)
	movl $0, PT_EAX(%esp)		# a kernel thread that returns became a user task (execve): 0
	jmp syscall_exit

/*
 * system_call: the `int $0x80` trap gate's target. On entry the CPU has switched to
 * this task's kernel stack and pushed ss, esp, eflags, cs and eip (the 5 words at the
 * top of pt_regs); %eax holds the system call number, %ebx %ecx %edx %esi %edi %ebp
 * its arguments.
 */
system_call:
	pushl %eax			# save orig_eax: the syscall number, kept for restart & tracing
	/* SAVE_ALL: the rest of struct pt_regs, from the top down */
	cld				# the C ABI wants the direction flag clear
	pushl %gs			# PT_GS
	pushl %fs			# PT_FS
	pushl %es			# PT_ES
	pushl %ds			# PT_DS
	pushl %eax			# PT_EAX: overwritten with the return value below
	pushl %ebp			# PT_EBP: 6th argument
	pushl %edi			# PT_EDI: 5th argument
	pushl %esi			# PT_ESI: 4th argument
	pushl %edx			# PT_EDX: 3rd argument
	pushl %ecx			# PT_ECX: 2nd argument
	pushl %ebx			# PT_EBX: 1st argument; %esp now points at pt_regs
	movl $(__USER_DS), %edx		# the kernel runs on the flat user data segment…
	movl %edx, %ds
	movl %edx, %es			# (Linux also loads __KERNEL_PERCPU into %fs and the stack
					#  canary segment into %gs; this kernel has neither)
	/* GET_THREAD_INFO(%ebp): thread_info is at the base of the 8 KiB kernel stack */
	movl $-8192, %ebp		# -THREAD_SIZE = 0xffffe000
	andl %esp, %ebp			# %ebp = current_thread_info(); ->task is `current`
	cmpl $(NR_syscalls), %eax	# a number past the end of the table?
	jae syscall_badsys
syscall_call:
	call *sys_call_table(,%eax,4)	# sys_call_table[eax]: a gate into the C-level syscall
	movl %eax, PT_EAX(%esp)		# store the return value where restore_all pops %eax
syscall_exit:
	cli				# DISABLE_INTERRUPTS: make sure we don't miss an interrupt
					# setting need_resched or sigpending between sampling and the iret
	movl TI_flags(%ebp), %ecx
	testl $(_TIF_WORK_MASK), %ecx	# current->work
	jne work_pending
restore_all:
restore_nocheck:
	/* RESTORE_REGS: pop what SAVE_ALL pushed */
	popl %ebx
	popl %ecx
	popl %edx
	popl %esi
	popl %edi
	popl %ebp
	popl %eax			# the return value
restore_ds:				# RESTORE_SEGMENTS + POP_GS: the user's segments (real GDT
	popl %ds			#  selectors); each pop has an __ex_table entry below
restore_es:
	popl %es
restore_fs:
	popl %fs
restore_gs:
	popl %gs			# reloads the TLS descriptor from the GDT
	addl $4, %esp			# skip orig_eax
	.p2align 2			# (nop padding: keeps irq_return's address even, which the
					#  dispatcher's pc & ~1 Thumb-bit masking currently needs)
irq_return:
	iret				# INTERRUPT_RETURN: pops eip, cs, eflags, esp, ss (done by TypeScript)

/*
 * work_pending: something to do before the return to user space (TIF_* in
 * thread_info->flags). Reschedule as long as TIF_NEED_RESCHED is set, then
 * deliver signals; re-check with interrupts off each time.
 */
work_pending:
	testb $(_TIF_NEED_RESCHED), %cl
	jz work_notifysig
work_resched:
	call schedule			# a gate: another task runs; we come back here
	cli				# DISABLE_INTERRUPTS
	movl TI_flags(%ebp), %ecx
	andl $(_TIF_WORK_MASK), %ecx	# is there any work to be done other
					# than syscall tracing?
	jz restore_all
	testb $(_TIF_NEED_RESCHED), %cl
	jnz work_resched

work_notifysig:				# deal with pending signals and
					# notify-resume requests
	sti				# ENABLE_INTERRUPTS
	movl %esp, %eax			# pt_regs
	xorl %edx, %edx
	call do_notify_resume		# a gate: get_signal's default actions
	jmp resume_userspace

/*
 * The timer interrupt (IRQ 0, vector 0x20). irqEntry (src/arch/x86/ops.ts) is
 * the CPU through the interrupt gate: IF cleared, the kernel stack from
 * TSS.esp0, ss/esp/eflags/cs/eip pushed. Like Linux's irq_entries_start stub,
 * push ~vector + 0x80 (a signed byte); common_interrupt turns it into ~vector
 * in orig_eax: negative, so never mistaken for a syscall number.
 */
irq0_interrupt:
	pushl $(~0x20 + 0x80)
common_interrupt:
	addl $-0x80, (%esp)		# adjust the vector into the [-256, -1] range
	/* SAVE_ALL (written out: this assembler has no .macro) */
	cld
	pushl %gs
	pushl %fs
	pushl %es
	pushl %ds
	pushl %eax
	pushl %ebp
	pushl %edi
	pushl %esi
	pushl %edx
	pushl %ecx
	pushl %ebx
	movl $(__USER_DS), %edx
	movl %edx, %ds
	movl %edx, %es
	movl %esp, %eax			# struct pt_regs *regs
	call do_IRQ			# a gate: the timer tick and expired timers
	jmp ret_from_intr

/*
 * ret_from_intr: back from an interrupt. To user mode through resume_userspace
 * (where TIF_NEED_RESCHED from the tick becomes schedule(): preemption); to
 * kernel mode straight to restore_all (the kernel is not preemptible).
 */
ret_from_intr:
	/* GET_THREAD_INFO(%ebp) */
	movl $-8192, %ebp
	andl %esp, %ebp
	movl PT_CS(%esp), %eax
	andl $(SEGMENT_RPL_MASK), %eax
	cmpl $(USER_RPL), %eax
	jb restore_all			# resume_kernel: no kernel preemption

/*
 * resume_userspace: the common return to user mode of syscalls and
 * interrupts; loops through work_pending until no work is left.
 */
resume_userspace:
	cli				# DISABLE_INTERRUPTS
	movl TI_flags(%ebp), %ecx
	andl $(_TIF_WORK_MASK), %ecx	# is there any work to be done on
					# int/exception return?
	jne work_pending
	jmp restore_all

/*
 * .fixup for RESTORE_SEGMENTS / POP_GS: a saved selector that no longer loads (the
 * user cleared its TLS slot with set_thread_area, say) makes the pop fault in kernel
 * mode (#GP). fixup_exception finds the pop in __ex_table and resumes here: the
 * saved selector becomes 0 (a null selector always loads) and the pop is retried.
 */
fixup_ds:
	movl $0, (%esp)
	jmp restore_ds
fixup_es:
	movl $0, (%esp)
	jmp restore_es
fixup_fs:
	movl $0, (%esp)
	jmp restore_fs
fixup_gs:
	movl $0, (%esp)
	jmp restore_gs

/*
 * syscall_badsys: a number >= NR_syscalls. Linux 3.x: -ENOSYS into pt_regs->ax,
 * then back to user space without calling anything.
 */
syscall_badsys:
	movl $-ENOSYS, PT_EAX(%esp)
	jmp syscall_exit

/*
 * CPU tables the arch code fills in at attach time.
 */
	.data

/*
 * __ex_table: pairs (faulting instruction, fixup), as _ASM_EXTABLE emits them;
 * the arch's fixupException searches it when kernel code takes an exception.
 */
	.balign 4
__start___ex_table:
	.long restore_ds, fixup_ds
	.long restore_es, fixup_es
	.long restore_fs, fixup_fs
	.long restore_gs, fixup_gs
__stop___ex_table:

/*
 * gdt_page: the Global Descriptor Table, one page, page-aligned as in Linux
 * (struct gdt_page, GDT_ENTRIES = 32 descriptors of 8 bytes). Entries used:
 *   6..8  TLS (thread.tls_array of the running task, loaded by switch_to)
 *   12    __KERNEL_CS 0x60    13  __KERNEL_DS 0x68
 *   14    __USER_CS   0x73    15  __USER_DS   0x7b
 *   16    TSS (init_tss)
 * It has its own page: the CPU reads it on behalf of user-mode instructions
 * (`movw %ax, %gs` after set_thread_area), which the arch completes with kernel
 * rights while user code itself can never read the page (see ops.ts,
 * completeImplicitAccess).
 */
	.balign 4096
gdt_page:
	.fill 1024, 4, 0

/*
 * init_tss: struct x86_hw_tss (104 bytes) of the one CPU; sp0/ss0 are the kernel
 * stack the trap gate switches to: updated by switch_to from next->thread.sp0.
 */
	.balign 64
init_tss:
	.fill 26, 4, 0
