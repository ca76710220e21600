// Giving freed heap memory back to the operating system, for a long-running process that has
// just dropped a large amount of it (the content cache after a purge or dropcache).
#pragma once

namespace cairn::util {

// Returns the allocator's free pages to the kernel, so the process's resident size falls: glibc's
// malloc_trim(0), or, in an AddressSanitizer build (whose allocator replaces glibc's and keeps
// freed blocks in a quarantine), the sanitizer's purge. Costs a walk of the heap: call it after
// large frees, not on every one.
void release_free_memory();

}  // namespace cairn::util
