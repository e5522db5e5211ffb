#pragma once
// What the fuzz targets share: an invariant that does not hold is a crash, so
// that libFuzzer saves the input and the replay fails.
#include <cstdio>
#include <cstdlib>

namespace dnsd::fuzz {

inline void require(bool holds, const char* invariant) {
    if (holds) return;
    std::fprintf(stderr, "invariant broken: %s\n", invariant);
    std::abort();
}

}  // namespace dnsd::fuzz
