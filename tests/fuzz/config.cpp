// The bytes as a config file through the config loader; a config that loads
// then has its regions compiled into the geo map, as start-up does (without
// a GeoIP database: the path in the input is not opened).
#include <string_view>

#include "dnsd/config/config.hpp"
#include "dnsd/geo/geo.hpp"
#include "fuzz.hpp"

using namespace dnsd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = "/etc/dnsd/config.json";
    core::Diagnostics diagnostics;
    auto config = config::load_text({reinterpret_cast<const char*>(data), size}, path, diagnostics);
    // A config that does not load says why, and where.
    fuzz::require(config.has_value() == diagnostics.empty(), "a config loads exactly when nothing is wrong");
    for (const auto& d : diagnostics)
        fuzz::require(d.file == path && d.line > 0 && d.column > 0, "every problem has FILE:LINE:COL");
    if (!config) return 0;
    config->geoip_path.clear();
    std::string error;
    fuzz::require(geo::Geo::load(*config, error) != nullptr, "the regions of a valid config compile");
    return 0;
}
