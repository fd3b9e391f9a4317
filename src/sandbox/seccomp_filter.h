#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cex {

// Choices for the system call filter of sandboxed runs.
struct SeccompOptions {
  // On x86-64, 32-bit programs (gcc -m32) enter the kernel through the i386 table. When true
  // the same calls are denied there too and such programs run; when false every i386 call
  // fails with EPERM. x32 calls always fail.
  bool allow_32bit = true;
};

// The system calls a sandboxed run may not make: debugging other processes, kernel modules
// and kexec, mounting and namespaces, keyrings, BPF and perf, io_uring, clock and host
// settings. They fail with EPERM so the program sees an error instead of dying.
const std::vector<std::string_view>& deniedSyscalls();

// Builds the filter once, as the classic-BPF program the kernel and bubblewrap's --seccomp
// take. Besides the list above it denies clone() with namespace flags, turns clone3() into
// ENOSYS (its flags are out of a filter's reach; libc then falls back to clone), refuses
// TIOCSTI and personality changes other than the plain Linux ones.
Result<std::string> buildSeccompFilter(const SeccompOptions& options);

}  // namespace cex
