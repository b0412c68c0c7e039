// glibc malloc interposition for the allocation-counting test binary (see alloc_counter.hpp).
#include "alloc/alloc_counter.hpp"

#include <execinfo.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);
}

namespace {
thread_local bool in_trace = false;

void note_allocation() {
    using seqrec::test::AllocCounter;
    if (!AllocCounter::on().load(std::memory_order_relaxed) || in_trace) return;
    AllocCounter::count().fetch_add(1, std::memory_order_relaxed);
    static const bool trace = std::getenv("SEQREC_ALLOC_TRACE") != nullptr;
    if (trace) {
        in_trace = true;
        void* frames[32];
        const int n = backtrace(frames, 32);
        backtrace_symbols_fd(frames, n, STDERR_FILENO);
        (void)!write(STDERR_FILENO, "----\n", 5);
        in_trace = false;
    }
}
}  // namespace

extern "C" {
void* malloc(std::size_t n) {
    note_allocation();
    return __libc_malloc(n);
}
void* calloc(std::size_t a, std::size_t b) {
    note_allocation();
    return __libc_calloc(a, b);
}
void* realloc(void* p, std::size_t n) {
    note_allocation();
    return __libc_realloc(p, n);
}
void* memalign(std::size_t a, std::size_t n) {
    note_allocation();
    return __libc_memalign(a, n);
}
void* aligned_alloc(std::size_t a, std::size_t n) {
    note_allocation();
    return __libc_memalign(a, n);
}
int posix_memalign(void** p, std::size_t a, std::size_t n) {
    note_allocation();
    *p = __libc_memalign(a, n);
    return *p ? 0 : ENOMEM;
}
void free(void* p) { __libc_free(p); }
}
