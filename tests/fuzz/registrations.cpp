// The bytes as the registrations file of the state directory (read at
// start-up) and as the body of a PUT .../registrations/ADDRESS.
#include <string>
#include <string_view>
#include <vector>

#include "dnsd/control/state_store.hpp"
#include "fuzz.hpp"

using namespace dnsd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const std::string path = "state/registrations.json";
    core::Diagnostics diagnostics;
    for (const auto& r : control::parse_registrations(text, path, diagnostics))
        fuzz::require(r.weight <= INT32_MAX, "a weight kept is within a zone file's range");
    for (const auto& d : diagnostics)
        fuzz::require(d.file == path && d.line > 0 && d.column > 0, "every problem has FILE:LINE:COL");

    const std::vector<std::string_view> regions{"eu", "us"};
    std::string error;
    const auto request = control::parse_registration_request("svc.example", "web", "192.0.2.7", text, regions, error);
    fuzz::require(request.has_value() == error.empty(), "a request is read, or refused with a reason");
    if (request) {
        fuzz::require(request->lease_s >= control::min_lease_s && request->lease_s <= control::max_lease_s,
                      "a lease read is within 1..86400");
        fuzz::require(request->registration.region.empty() || request->registration.region == "eu" ||
                          request->registration.region == "us",
                      "a region read is the config's");
    }
    return 0;
}
