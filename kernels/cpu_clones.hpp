#pragma once
// Which CPUs a speed-critical function is compiled for. GCC on x86-64 compiles a function marked
// XGRAD_CLONES_V4 three times, for x86-64-v4 (AVX-512), x86-64-v3 (AVX2 with FMA, which fuses
// multiply-adds) and the x86-64 baseline, and the loader picks the best one the CPU supports when the
// library is loaded (libtorch dispatches the same way); XGRAD_CLONES_V3 leaves out the AVX-512 copy,
// for code whose 32-byte moves gain nothing from wider ones.
//
// Elsewhere the functions are compiled once, for whatever the compiler targets. That includes clang:
// clang 14 accepts these target_clones but its resolver never picks the v4 or v3 clone (it reads
// "arch=x86-64-v4" as a CPU model to compare with, a test that is never true, and leaves v3 out), and
// its clones cannot name a feature set such as AVX2 with FMA. A clang build thus runs the code GCC's
// build runs on a CPU without AVX2.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define XGRAD_CLONES_V4 __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#define XGRAD_CLONES_V3 __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define XGRAD_CLONES_V4
#define XGRAD_CLONES_V3
#endif
