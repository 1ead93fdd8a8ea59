@ A runaway loop: trapdoor run must stop it at the instruction budget.
        .text
_start: b       _start
