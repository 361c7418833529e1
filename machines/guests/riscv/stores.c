/* A store-heavy guest for riscv-virt: `iterations` rounds of what programs spend their
 * stores on: fill a 64 KiB array with pseudo-random words, memset a second one, memcpy
 * the first into it, merge-sort it (through a third buffer), count its bytes; then print
 * a checksum and power off. bench/stores.py patches `iterations` in a copy of the ELF.
 * Built freestanding (no C library) by the Makefile; the UART and power-off routines are
 * uart.S's. */
#include <stddef.h>
#include <stdint.h>

void puts(const char *s);
void putdec(uint64_t value);
void poweroff(uint64_t code) __attribute__((noreturn));

__asm__(".section .text.start\n"
        ".globl _start\n"
        "_start:\n"
        "        la      sp, stack_top\n"
        "        csrr    a0, mhartid\n"
        "        bnez    a0, 1f\n"
        "        call    main\n"
        "1:      wfi\n"
        "        j       1b\n"
        ".text\n");

#define N 16384 /* words per array: 64 KiB */

uint32_t iterations __attribute__((used)) = 2;
/* on pages of their own, as a linker lays out data apart from code (a store to a page
 * that holds code takes the slow path on any engine, QEMU's too) */
#define PAGE_ALIGNED __attribute__((aligned(4096)))
static uint32_t a[N] PAGE_ALIGNED, b[N] PAGE_ALIGNED, t[N] PAGE_ALIGNED;
static uint32_t counts[256] PAGE_ALIGNED;

static void fill(uint32_t *dst, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        dst[i] = seed;
    }
}

static void set64(void *dst, uint64_t value, size_t bytes)
{
    uint64_t *d = dst;
    for (size_t i = 0; i < bytes / 8; i++)
        d[i] = value;
}

static void copy64(void *dst, const void *src, size_t bytes)
{
    uint64_t *d = dst;
    const uint64_t *s = src;
    for (size_t i = 0; i < bytes / 8; i++)
        d[i] = s[i];
}

/* bottom-up merge sort of v[0..n) through tmp */
static void sort(uint32_t *v, uint32_t *tmp, size_t n)
{
    uint32_t *from = v, *to = tmp;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                to[k++] = from[i] <= from[j] ? from[i++] : from[j++];
            while (i < mid)
                to[k++] = from[i++];
            while (j < hi)
                to[k++] = from[j++];
        }
        uint32_t *swap = from;
        from = to;
        to = swap;
    }
    if (from != v)
        copy64(v, from, n * sizeof *v);
}

static void count_bytes(const uint32_t *v, size_t n)
{
    const uint8_t *p = (const uint8_t *)v;
    for (size_t i = 0; i < n * sizeof *v; i++)
        counts[p[i]]++;
}

int main(void)
{
    uint32_t rounds = *(volatile uint32_t *)&iterations;
    uint64_t checksum = 0;

    set64(counts, 0, sizeof counts);
    for (uint32_t r = 0; r < rounds; r++) {
        fill(a, N, 0x2545F491u + r);
        set64(b, 0, sizeof b);
        copy64(b, a, sizeof a);
        sort(b, t, N);
        count_bytes(b, N);
        for (size_t i = 1; i < N; i++) {
            if (b[i - 1] > b[i]) {
                puts("stores: not sorted\n");
                poweroff(1);
            }
        }
        checksum = checksum * 31 + b[0] + b[N / 2] + b[N - 1] + counts[r & 255];
    }
    puts("stores: ");
    putdec(rounds);
    puts(" rounds, checksum ");
    putdec(checksum);
    puts("\n");
    poweroff(0);
}
