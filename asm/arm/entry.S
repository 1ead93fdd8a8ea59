@
@  asm/arm/entry.S — the system call entry and exit path of trapdoor's ARM kernel
@
@  Modelled on Linux 3.x arch/arm/kernel/entry-common.S and entry-header.S (EABI,
@  ARM-mode kernel, no syscall tracing). Assembled by the kernel at 0xc0008000
@  after a prelude of .equ lines:
@    - the asm-offsets of src/arch/arm/layout.ts (TI_*, S_*, S_OFF, THREAD_SIZE …);
@    - the kernel's gates, absolute addresses of functions written in TypeScript:
@      sys_call_table (the table itself, guest memory), NR_syscalls, sys_ni_syscall,
@      schedule_tail, arm_syscall. A branch to a gate is a call into the modelled
@      kernel, which returns to lr (or to wherever it switches to).
@
@  Register names used by Linux here (GNU as `.req` aliases there, plain names here):
@    scno = r7    syscall number (EABI: the caller puts it in r7)
@    tbl  = r8    syscall table pointer
@    why  = r8    "are we still in a syscall" for signal restarting (0 = no)
@    tsk  = r9    current thread_info
@
@  Kernel stack of a task while it is in a syscall (8 KiB, 8 KiB-aligned):
@
@      base + THREAD_SIZE       +-----------------------------+
@                               |  8 bytes (THREAD_START_SP)  |
@      SP_svc at entry -------> +-----------------------------+
@                               |  struct pt_regs (72 bytes)  |  ARM_r0 … ARM_ORIG_r0
@      pt_regs -------------->  +-----------------------------+
@                               |  r4, r5 (syscall args 5, 6) |  S_OFF = 8
@      sp in sys_* ---------->  +-----------------------------+
@                               |  … kernel stack …           |
@      base ----------------->  +-----------------------------+
@                               |  struct thread_info         |  flags, preempt_count,
@                               +-----------------------------+  addr_limit, task, …
@

	.text
	.align	5

@ ---------------------------------------------------------------------------
@ vector_swi: the SWI (svc) exception handler.
@
@ The SWI slot of the vectors page (0xffff0008) loads pc with this address. On
@ arrival the CPU has done what it does on an SVC exception: mode SVC, IRQs
@ masked, SPSR_svc = the user's CPSR, LR_svc = the address after the svc,
@ sp = SP_svc = this task's THREAD_START_SP. r0–r12 are still the user's.
@ ---------------------------------------------------------------------------
	.globl	vector_swi
vector_swi:
	sub	sp, sp, #S_FRAME_SIZE		@ room for struct pt_regs
	stmia	sp, {r0 - r12}			@ Calling r0 - r12
	add	r8, sp, #S_PC
	stmdb	r8, {sp, lr}^			@ Calling sp, lr (the user bank: `^`)
	mrs	r8, spsr			@ called from non-FIQ mode, so ok.
	str	lr, [sp, #S_PC]			@ Save calling PC
	str	r8, [sp, #S_PSR]		@ Save CPSR
	str	r0, [sp, #S_OLD_R0]		@ Save OLD_R0 (r0 is also the 1st argument and the result)
	mov	fp, #0				@ zero_fp: end of the frame-pointer chain for backtraces

	cpsie	i				@ enable_irq: syscalls run with interrupts enabled

	@ get_thread_info tsk: thread_info sits at the base of the 8 KiB kernel
	@ stack, so clearing the low 13 bits of sp finds it (sp & ~(THREAD_SIZE - 1)).
	mov	r9, sp, lsr #13
	mov	r9, r9, lsl #13
	ldr	r10, [r9, #TI_TASK]		@ r10 = current: thread_info->task

local_restart:					@ do_work_pending restarts an interrupted syscall here
	ldr	r8, =sys_call_table		@ tbl = syscall table pointer

	stmdb	sp!, {r4, r5}			@ push fifth and sixth args

	@ Linux compares with an immediate (`cmp scno, #NR_syscalls`, its table
	@ padded to a multiple of 4 so the constant encodes); the kernel here
	@ chooses NR_syscalls, so load it.
	ldr	ip, =NR_syscalls
	cmp	r7, ip				@ check upper syscall limit
	adr	lr, ret_fast_syscall		@ return address
	ldrcc	pc, [r8, r7, lsl #2]		@ call sys_* routine

	add	r1, sp, #S_OFF			@ r1 = struct pt_regs *regs
	mov	r8, #0				@ why = 0: no longer a real syscall
	cmp	r7, #(__ARM_NR_BASE - __NR_SYSCALL_BASE)
	eor	r0, r7, #__NR_SYSCALL_BASE	@ put OS number back
	bcs	arm_syscall			@ ARM private syscalls: arm_syscall(no, regs)
	b	sys_ni_syscall			@ not private func: -ENOSYS

@ ---------------------------------------------------------------------------
@ ret_fast_syscall: every sys_* routine returns here with its result in r0.
@ sp still points S_OFF below pt_regs (the pushed r4, r5); tsk (r9) is still
@ this task's thread_info (callee-saved, and __switch_to keeps it per task).
@ ---------------------------------------------------------------------------
	.globl	ret_fast_syscall
ret_fast_syscall:
	cpsid	i				@ disable_irq
	ldr	r1, [r9, #TI_FLAGS]		@ any work before going back to user mode?
	tst	r1, #_TIF_WORK_MASK		@ NEED_RESCHED | SIGPENDING | NOTIFY_RESUME
	bne	fast_work_pending
	str	r0, [sp, #S_R0 + S_OFF]		@ returned r0: pt_regs->ARM_r0 shows the result

	@ restore_user_regs fast = 1, offset = S_OFF
	ldr	r1, [sp, #S_OFF + S_PSR]	@ get calling cpsr
	ldr	lr, [sp, #S_OFF + S_PC]!	@ get pc; sp = &pt_regs->ARM_pc
	msr	spsr_cxsf, r1			@ save in spsr_svc
	clrex					@ clear the exclusive monitor
	ldmdb	sp, {r1 - lr}^			@ get calling r1 - lr (r0 = the result)
	mov	r0, r0				@ ARMv5T and earlier require a nop after ldm {}^
	add	sp, sp, #S_FRAME_SIZE - S_PC	@ sp = THREAD_START_SP again, for the next entry
	movs	pc, lr				@ return & move spsr_svc into cpsr

@ The slow path: the result goes into pt_regs, sp moves up to pt_regs, and
@ do_work_pending runs until no work is left (it may schedule() away, or end
@ the task in do_exit for a fatal signal).
fast_work_pending:
	str	r0, [sp, #S_R0 + S_OFF]!	@ returned r0; sp = pt_regs
work_pending:
	mov	r0, sp				@ 'regs'
	mov	r2, r8				@ 'syscall' (why)
	bl	do_work_pending			@ a gate: reschedule, deliver signals
	cmp	r0, #0
	beq	no_work_pending
	@ A syscall a signal interrupted is restarted (no handler ran): r0 > 0 the
	@ same one, r0 < 0 restart_syscall (nanosleep's restart_block).
	movlt	r7, #0				@ scno = __NR_restart_syscall - __NR_SYSCALL_BASE
	ldmia	sp, {r0 - r6}			@ have to reload r0 - r6
	b	local_restart			@ ... and off we go

@ ---------------------------------------------------------------------------
@ ret_to_user / ret_slow_syscall: return to user mode restoring every
@ register from pt_regs, r0 included. sp = pt_regs, tsk (r9) = thread_info.
@ ret_to_user_from_irq is where the IRQ path joins, IRQs already off.
@ ---------------------------------------------------------------------------
	.globl	ret_to_user
	.globl	ret_to_user_from_irq
ret_slow_syscall:
ret_to_user:
	cpsid	i				@ disable_irq
ret_to_user_from_irq:
	ldr	r1, [r9, #TI_FLAGS]
	tst	r1, #_TIF_WORK_MASK
	bne	work_pending
no_work_pending:
	@ restore_user_regs fast = 0, offset = 0
	ldr	r1, [sp, #S_PSR]		@ get calling cpsr
	ldr	lr, [sp, #S_PC]!		@ get pc; sp = &pt_regs->ARM_pc
	msr	spsr_cxsf, r1			@ save in spsr_svc
	clrex					@ clear the exclusive monitor
	ldmdb	sp, {r0 - lr}^			@ get calling r0 - lr
	mov	r0, r0				@ ARMv5T and earlier require a nop after ldm {}^
	add	sp, sp, #S_FRAME_SIZE - S_PC	@ sp = THREAD_START_SP
	movs	pc, lr				@ return & move spsr_svc into cpsr

@ ---------------------------------------------------------------------------
@ ret_from_fork: where a new task first runs. copy_thread() set its
@ cpu_context so that the first switch to it lands here with sp = its
@ pt_regs (a copy of the parent's, with ARM_r0 = 0) and r4 = r5 = 0
@ (a kernel thread would have r5 = function, r4 = its argument).
@ ---------------------------------------------------------------------------
	.globl	ret_from_fork
ret_from_fork:
	bl	schedule_tail			@ finish the context switch (finish_task_switch)
	cmp	r5, #0				@ kernel thread?
	movne	r0, r4				@ yes: fn(arg)
	adrne	lr, 1f
	movne	pc, r5
1:	mov	r9, sp, lsr #13			@ get_thread_info tsk
	mov	r9, r9, lsl #13
	b	ret_slow_syscall		@ back to user mode: r0 = 0 from pt_regs

	.ltorg

@ ---------------------------------------------------------------------------
@ __irq_usr (entry-armv.S): an IRQ taken in user mode, reached from
@ __vector_irq in SVC mode with r0 = the exception stack (the user's r0, the
@ resume pc, the user's cpsr) and sp = this task's THREAD_START_SP. Builds
@ pt_regs as vector_swi does (usr_entry), calls the interrupt handler, and
@ leaves through ret_to_user_from_irq, where a TIF_NEED_RESCHED set by the
@ timer tick turns into schedule(): this is how a busy user task is preempted.
@ ---------------------------------------------------------------------------
	.align	5
	.globl	__irq_usr
__irq_usr:
	@ usr_entry
	sub	sp, sp, #S_FRAME_SIZE
	stmib	sp, {r1 - r12}
	ldmia	r0, {r3 - r5}			@ r3 = the user's r0, r4 = resume pc, r5 = user cpsr
	add	r0, sp, #S_PC
	mvn	r6, #0				@ orig_r0 = -1: not a system call
	str	r3, [sp]			@ save the "real" r0 copied from the exception stack
	stmia	r0, {r4 - r6}			@ ARM_pc, ARM_cpsr, ARM_ORIG_r0
	stmdb	r0, {sp, lr}^			@ ARM_sp, ARM_lr: the user bank
	mov	fp, #0				@ zero_fp
	@ irq_handler
	mov	r0, sp				@ struct pt_regs *regs
	bl	asm_do_IRQ			@ a gate: the timer interrupt (tick, expired timers)
	@ get_thread_info tsk
	mov	r9, sp, lsr #13
	mov	r9, r9, lsl #13
	mov	r8, #0				@ why = 0: not returning from a syscall
	b	ret_to_user_from_irq

@ An IRQ from a mode it should never come from: spin here, labelled, so a
@ debugger shows where the CPU is.
	.globl	__irq_invalid
__irq_invalid:
	b	__irq_invalid

	.data
	.align	2
@ The IRQ mode's exception stack (Linux: struct stack's irq[3] in cpu_init):
@ __vector_irq saves r0, lr_irq and spsr_irq here before it leaves IRQ mode.
	.globl	irq_stack
irq_stack:
	.space	12
