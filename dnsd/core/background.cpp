#include "dnsd/core/background.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>

namespace dnsd::core {

void run_in_background() {
    thread_local bool lowered = false;
    if (lowered) return;
    lowered = true;
    // PRIO_PROCESS with a thread ID sets that thread's niceness alone (Linux).
    const auto thread = static_cast<id_t>(::gettid());
    errno = 0;
    const int niceness = ::getpriority(PRIO_PROCESS, thread);
    if (niceness == -1 && errno != 0) return;
    if (niceness < background_niceness) ::setpriority(PRIO_PROCESS, thread, background_niceness);
}

}  // namespace dnsd::core
