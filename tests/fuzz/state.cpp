// The bytes as the overrides file of the state directory, read at start-up.
#include <string>

#include "dnsd/control/state_store.hpp"
#include "fuzz.hpp"

using namespace dnsd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = "state/overrides.json";
    core::Diagnostics diagnostics;
    const auto overrides =
        control::parse_overrides(std::string(reinterpret_cast<const char*>(data), size), path, diagnostics);
    for (const auto& d : diagnostics)
        fuzz::require(d.file == path && d.line > 0 && d.column > 0, "every problem has FILE:LINE:COL");
    for (const auto& o : overrides)
        fuzz::require(o.state != zone::MemberState::automatic, "an override kept is up or down");
    return 0;
}
