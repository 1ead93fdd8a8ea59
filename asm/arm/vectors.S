@
@  asm/arm/vectors.S — the ARM vectors page, mapped at 0xffff0000 in every mm
@  (user: read + execute, no write), one physical page.
@
@  Modelled on Linux 3.x arch/arm/kernel/entry-armv.S (__vectors_start and
@  __kuser_helper_start). Two parts:
@
@   0xffff0000  the eight exception vectors (high vectors, SCTLR.V = 1).
@               Unicorn reports exceptions to trapdoor's hooks instead of
@               taking them, so only two slots are used: SWI (the kernel's
@               trapEntry sets pc = 0xffff0008) and IRQ (irqEntry, for the
@               timer tick, sets pc = 0xffff0018).
@   0xffff0f60  the kuser helpers, the fixed-address ABI user space calls
@   …0xffff0fff (Documentation/arm/kernel_user_helpers.txt): glibc built for
@               ARMv5 (Debian armel) reads its TLS pointer with
@               `blx 0xffff0fe0` and does atomics through 0xffff0fc0.
@
@  Assembled at 0xffff0000 with the kernel's symbols visible: vector_swi is
@  the entry point in entry.S.
@

	.text
	.arm
__vectors_start:
vector_rst:	b	__vector_rst_stub	@ 0x00 reset (Linux: swi SYS_ERROR0)
vector_und:	b	__vector_und_stub	@ 0x04 undefined instruction
vector_svc:	ldr	pc, .LCvswi		@ 0x08 SWI / svc: the system call entry
vector_pabt:	b	__vector_pabt_stub	@ 0x0c prefetch abort
vector_dabt:	b	__vector_dabt_stub	@ 0x10 data abort
vector_addrexcptn: b	__vector_addrexcptn_stub @ 0x14 (unused since 26-bit ARMs)
vector_irq:	b	__vector_irq		@ 0x18 IRQ: the timer tick
vector_fiq:	b	__vector_fiq_stub	@ 0x1c FIQ

.LCvswi:	.word	vector_swi		@ the address the SWI slot loads into pc

@ Exceptions trapdoor does not model. Unicorn never enters these vectors (it
@ calls the interrupt hook / fails the access instead), so a stub is reached
@ only if someone jumps here on purpose: each one spins on itself, labelled,
@ so a debugger shows which exception it was.
__vector_rst_stub:		b	__vector_rst_stub
__vector_und_stub:		b	__vector_und_stub
__vector_pabt_stub:		b	__vector_pabt_stub
__vector_dabt_stub:		b	__vector_dabt_stub
__vector_addrexcptn_stub:	b	__vector_addrexcptn_stub
__vector_fiq_stub:		b	__vector_fiq_stub

@ ---------------------------------------------------------------------------
@ __vector_irq: Linux's `vector_stub irq, IRQ_MODE, 4`. Entered in IRQ mode,
@ IRQs masked, with lr_irq = the interrupted pc + 4, spsr_irq = its cpsr and
@ sp_irq = irq_stack (three words). Saves r0, the resume pc and the cpsr
@ there, then switches to SVC mode and to the handler for the mode the IRQ
@ came from: __irq_usr (entry.S) for user mode. This kernel never takes an
@ IRQ in a kernel mode (its paths run with IRQs off), so the rest are
@ __irq_invalid.
@ ---------------------------------------------------------------------------
__vector_irq:
	sub	lr, lr, #4			@ the address to resume at
	stmia	sp, {r0, lr}			@ save r0, lr_irq (parent PC)
	mrs	lr, spsr
	str	lr, [sp, #8]			@ save spsr_irq (parent CPSR)
	mrs	r0, cpsr
	eor	r0, r0, #(IRQ_MODE ^ SVC_MODE)	@ prepare for SVC32 mode; IRQs remain disabled
	msr	spsr_cxsf, r0
	and	lr, lr, #0x0f			@ the interrupted mode, from spsr's low bits
	mov	r0, sp				@ r0 = the three saved words
	ldr	lr, [pc, lr, lsl #2]		@ pc reads 8 ahead: the table just below
	movs	pc, lr				@ branch to the handler, in SVC mode
	.word	__irq_usr			@  0 (USR_32)
	.word	__irq_invalid			@  1 (FIQ_32)
	.word	__irq_invalid			@  2 (IRQ_32)
	.word	__irq_invalid			@  3 (SVC_32)
	.word	__irq_invalid			@  4
	.word	__irq_invalid			@  5
	.word	__irq_invalid			@  6
	.word	__irq_invalid			@  7 (ABT_32)
	.word	__irq_invalid			@  8
	.word	__irq_invalid			@  9
	.word	__irq_invalid			@  a
	.word	__irq_invalid			@  b (UND_32)
	.word	__irq_invalid			@  c
	.word	__irq_invalid			@  d
	.word	__irq_invalid			@  e
	.word	__irq_invalid			@  f

@ ---------------------------------------------------------------------------
@ kuser helpers: each helper sits in its own 32-byte slot at a fixed address,
@ counting down from the top of the page. This is the ARMv6K+/SMP variant
@ (ldrex/strex, dmb). Return with `bx lr` (usr_ret): callers may be Thumb.
@ ---------------------------------------------------------------------------
	.space	0xf60 - (. - __vectors_start)
__kuser_helper_start:

@ int __kuser_cmpxchg64(const int64_t *oldval, const int64_t *newval,
@                       volatile int64_t *ptr)                 @ 0xffff0f60
@ Atomically: if (*ptr == *oldval) { *ptr = *newval; return 0; } else return
@ nonzero; C flag set on success. Two slots long (0xffff0f80 is no entry).
__kuser_cmpxchg64:
	stmfd	sp!, {r4, r5, r6, r7}
	ldrd	r4, r5, [r0]			@ load old val
	ldrd	r6, r7, [r1]			@ load new val
	dmb	ish				@ smp_dmb
1:	ldrexd	r0, r1, [r2]			@ load current val
	eors	r3, r0, r4			@ compare with oldval (1)
	eorseq	r3, r1, r5			@ compare with oldval (2)
	strexdeq r3, r6, r7, [r2]		@ store newval if eq
	teqeq	r3, #1				@ success?
	beq	1b				@ if no then retry
	dmb	ish				@ smp_dmb
	rsbs	r0, r3, #0			@ set returned val and C flag
	ldmfd	sp!, {r4, r5, r6, r7}
	bx	lr
	.space	0xfa0 - (. - __vectors_start)

@ void __kuser_memory_barrier(void)                           @ 0xffff0fa0
__kuser_memory_barrier:
	dmb	ish				@ smp_dmb
	bx	lr
	.space	0xfc0 - (. - __vectors_start)

@ int __kuser_cmpxchg(int oldval, int newval, volatile int *ptr) @ 0xffff0fc0
@ Atomically: if (*ptr == oldval) { *ptr = newval; return 0; } else return
@ nonzero; C flag set on success.
__kuser_cmpxchg:
	dmb	ish				@ smp_dmb
1:	ldrex	r3, [r2]			@ r3 = *ptr, and claim the exclusive monitor
	subs	r3, r3, r0			@ equal to oldval?
	strexeq	r3, r1, [r2]			@ yes: try *ptr = newval (r3 = 0 on success)
	teqeq	r3, #1				@ store lost the monitor?
	beq	1b				@ then retry
	rsbs	r0, r3, #0			@ r0 = 0 and C set if stored
	b	__kuser_memory_barrier		@ smp_dmb, then return (each slot: 8 insns max)
	.space	0xfe0 - (. - __vectors_start)

@ void *__kuser_get_tls(void)                                 @ 0xffff0fe0
@ Returns the TLS value the kernel keeps in the word at 0xffff0ff0 (and in
@ TPIDRURO, readable with the mrc at 0xffff0fe8, which Linux patches in on
@ CPUs that have the register).
__kuser_get_tls:
	ldr	r0, [pc, #(16 - 8)]		@ read TLS from 0xffff0ff0 (pc reads 8 ahead)
	bx	lr
	mrc	p15, 0, r0, c13, c0, 3		@ 0xffff0fe8 hardware TLS code
	.space	0xff0 - (. - __vectors_start)
__kuser_tls:
	.word	0				@ 0xffff0ff0 software TLS value
	.word	0, 0				@ pad up to __kuser_helper_version

@ int __kuser_helper_version                                  @ 0xffff0ffc
@ The number of 32-byte helper slots: user space checks it before calling.
__kuser_helper_version:
	.word	((__kuser_helper_end - __kuser_helper_start) >> 5)
__kuser_helper_end:
