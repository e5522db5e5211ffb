// The bytes as a zone file through the zone loader, with the default regions.
#include <string_view>

#include "dnsd/config/config.hpp"
#include "dnsd/zone/load.hpp"
#include "fuzz.hpp"

using namespace dnsd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const config::Config config = config::defaults();
    static const std::vector<std::string_view> regions = config.region_names();
    const std::string path = "zones/fuzz.example.json";
    core::Diagnostics diagnostics;
    const auto zone = zone::load_zone({reinterpret_cast<const char*>(data), size}, path, regions, diagnostics);
    // A zone that does not load says why, and where.
    fuzz::require((zone == nullptr) != diagnostics.empty(), "a zone loads exactly when nothing is wrong");
    for (const auto& d : diagnostics) fuzz::require(d.file == path && d.line > 0 && d.column > 0,
                                                    "every problem has FILE:LINE:COL");
    return 0;
}
