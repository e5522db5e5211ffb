#pragma once
// Work that answers no query (the control loop: a reload's publishing, probes,
// the API, the fleet; the thread pool: a reload's parsing and compiling,
// freeing what a reload replaced) must not hold up a worker that does. On a
// machine with fewer CPUs than busy threads the scheduler shares each CPU by
// priority: a worker at the default priority then gets about 90% of a CPU that
// a background thread also wants, instead of an equal share and a wait of a
// scheduler slice, which is milliseconds.
namespace dnsd::core {

// The calling thread's niceness becomes at least `background_niceness`, once
// per thread: threads that run only background work stay there, and threads
// they start inherit it. Lowering needs no privilege; failing changes nothing.
void run_in_background();

inline constexpr int background_niceness = 10;

}  // namespace dnsd::core
