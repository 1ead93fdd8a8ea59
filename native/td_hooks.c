/*
 * td_hooks: the one piece of trapdoor written in C.
 *
 * Virtual time and the instruction budget need an exact count of the guest
 * instructions retired. A UC_HOOK_CODE callback into JavaScript costs ~600 ns
 * per call (measured) — 300x the guest's own speed — while a C callback costs
 * ~1.5 ns, the same as Unicorn's own `count` argument (which cannot tell us how
 * many instructions ran when emulation stops early, e.g. at a syscall).
 *
 * The library has no link-time dependency on Unicorn: td_init() dlopen()s the
 * very file koffi already loaded, so both use the same copy of libunicorn.
 */
#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>

typedef struct uc_struct uc_engine;
typedef size_t uc_hook;

#define UC_HOOK_CODE (1 << 2)

static int (*p_uc_hook_add)(uc_engine *, uc_hook *, int, void *, void *,
                            uint64_t, uint64_t, ...);
static int (*p_uc_emu_stop)(uc_engine *);

#define TD_TRAP_ADDRS 4

/* Shared with TypeScript, which reads and writes it as 64-bit words. */
struct td_counter {
    uint64_t retired; /* instructions that ran to completion (or trapped) */
    uint64_t stop_at; /* stop before the instruction that would exceed this */
    /*
     * Trap addresses: reaching one stops the CPU and records it in trap_hit.
     * [trap_lo, trap_hi) is the kernel's gate area (calls into TypeScript);
     * trap_addr[] are single instructions TypeScript completes (i386 iret).
     * Checking them here, in the hook that runs anyway, costs nothing; a
     * second, JavaScript code hook would slow every instruction (measured:
     * 4x on ARM, 1.6x on i386, even bounded to a range never executed).
     */
    uint64_t trap_lo, trap_hi;
    uint64_t trap_addr[TD_TRAP_ADDRS]; /* 0 = unused */
    uint64_t trap_hit; /* the trap address reached, 0 if none; TypeScript clears it */
};

/* Called before each instruction: stop at the budget or a trap address, else count. */
static void count_cb(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
    struct td_counter *c = user;
    (void)size;
    if (c->retired >= c->stop_at) {
        p_uc_emu_stop(uc);
        return;
    }
    int trap = address >= c->trap_lo && address < c->trap_hi;
    for (int i = 0; !trap && i < TD_TRAP_ADDRS; i++)
        trap = c->trap_addr[i] == address;
    if (trap) {
        /* The stop may take effect an instruction late (gate slots branch to
         * themselves, so the CPU waits in place): count the trap once. */
        if (c->trap_hit != address) {
            c->trap_hit = address;
            c->retired++;
        }
        p_uc_emu_stop(uc);
        return;
    }
    c->retired++;
}

/* Returns 0 on success, -1 if the library cannot be opened, -2 if a symbol is missing. */
int td_init(const char *unicorn_path)
{
    void *h = dlopen(unicorn_path, RTLD_NOW | RTLD_GLOBAL);
    if (!h)
        return -1;
    p_uc_hook_add = (int (*)(uc_engine *, uc_hook *, int, void *, void *, uint64_t, uint64_t, ...))dlsym(h, "uc_hook_add");
    p_uc_emu_stop = (int (*)(uc_engine *))dlsym(h, "uc_emu_stop");
    return (p_uc_hook_add && p_uc_emu_stop) ? 0 : -2;
}

/* Installs the counting hook on every address; returns Unicorn's uc_err. */
int td_add_counter(uc_engine *uc, uc_hook *hh, struct td_counter *c)
{
    return p_uc_hook_add(uc, hh, UC_HOOK_CODE, (void *)count_cb, c, 1, 0);
}
