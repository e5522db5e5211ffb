#pragma once
// A problem found in a config or zone file, located for the user who must fix it.
#include <cstdint>
#include <string>
#include <vector>

namespace dnsd::core {

struct Diagnostic {
    std::string file;
    uint32_t line = 0;  // 1-based; 0 when the problem concerns the whole file
    uint32_t column = 0;
    std::string message;

    // "FILE:LINE:COL: message" (or "FILE: message" without a position).
    std::string to_string() const;
};

using Diagnostics = std::vector<Diagnostic>;

}  // namespace dnsd::core
