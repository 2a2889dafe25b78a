// The allocation counter of tests/support/allocation_counter.hpp: malloc and its relatives interposed,
// each call counted, from any thread. Compiled out under AddressSanitizer, which owns malloc.
#include "support/allocation_counter.hpp"

#include <atomic>
#include <cerrno>
#include <cstdlib>

#if defined(__SANITIZE_ADDRESS__)
#define GFN_COUNT_ALLOCATIONS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GFN_COUNT_ALLOCATIONS 0
#endif
#endif
#ifndef GFN_COUNT_ALLOCATIONS
#define GFN_COUNT_ALLOCATIONS 1
#endif

namespace {
std::atomic<int64_t> g_allocations{0};
}  // namespace

#if GFN_COUNT_ALLOCATIONS
// glibc's own entry points, which the definitions below forward to.
extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t count, size_t size);
void* __libc_realloc(void* pointer, size_t size);
void* __libc_memalign(size_t alignment, size_t size);
void __libc_free(void* pointer);

void* malloc(size_t size) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(size);
}
void* calloc(size_t count, size_t size) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(count, size);
}
void* realloc(void* pointer, size_t size) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(pointer, size);
}
void* memalign(size_t alignment, size_t size) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_memalign(alignment, size);
}
void* aligned_alloc(size_t alignment, size_t size) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** out, size_t alignment, size_t size) noexcept {
  if (alignment < sizeof(void*) || (alignment & (alignment - 1)) != 0) return EINVAL;
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  void* pointer = __libc_memalign(alignment, size);
  if (!pointer) return ENOMEM;
  *out = pointer;
  return 0;
}
void free(void* pointer) noexcept { __libc_free(pointer); }
}
#endif

namespace gfn::testing {
bool allocation_counting_available() { return GFN_COUNT_ALLOCATIONS != 0; }
int64_t allocation_count() { return g_allocations.load(std::memory_order_relaxed); }
}  // namespace gfn::testing
