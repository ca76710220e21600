#include "libutil/memory.hpp"

#include <malloc.h>

#if defined(__SANITIZE_ADDRESS__)
#define CAIRN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CAIRN_ASAN 1
#endif
#endif

#ifdef CAIRN_ASAN
// Declared by compiler-rt's <sanitizer/allocator_interface.h>, which GCC does not install.
extern "C" void __sanitizer_purge_allocator();
#endif

namespace cairn::util {

void release_free_memory() {
#ifdef CAIRN_ASAN
  __sanitizer_purge_allocator();
#else
  malloc_trim(0);
#endif
}

}  // namespace cairn::util
