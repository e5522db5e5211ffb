// The records fleet nodes read from NATS (dnsd/fleet/records.hpp): byte 0
// picks the kind ('0' override, '1' heartbeat, '2' verdict, '3' zone set,
// '5' registration; taken modulo 8, '4' left to the latency records), the
// rest is the value.
#include <string>

#include "dnsd/fleet/records.hpp"
#include "fuzz.hpp"

using namespace dnsd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const std::string where = "dnsd_state:key";
    std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
    core::Diagnostics diagnostics;
    bool decoded = false;
    switch (data[0] % 8) {
        case 0: {
            const auto o = fleet::decode_override(text, where, diagnostics);
            decoded = o.has_value();
            if (o) fuzz::require(o->state != zone::MemberState::automatic, "an override read is up or down");
            break;
        }
        case 1: decoded = fleet::decode_heartbeat(text, where, diagnostics).has_value(); break;
        case 2: decoded = fleet::decode_vote(text, where, diagnostics).has_value(); break;
        case 3: {
            const auto zones = fleet::decode_zone_set(text, where, diagnostics);
            decoded = zones.has_value();
            if (zones)
                for (const auto& [name, content] : zones->files)
                    fuzz::require(fleet::is_zone_file_name(name) && name.find('/') == std::string::npos,
                                  "a zone file read names a plain file");
            break;
        }
        case 5: {
            const auto r = fleet::decode_registration(text, where, diagnostics);
            decoded = r.has_value();
            // What is read is written back the same: every node reads the same registration.
            if (r) {
                core::Diagnostics again;
                fuzz::require(fleet::decode_registration(fleet::encode_registration(*r, "n"), where, again) == r,
                              "a registration read is written back as it was read");
            }
            break;
        }
        default: return 0;
    }
    fuzz::require(decoded == diagnostics.empty(), "a record is read exactly when it has no problem");
    for (const auto& d : diagnostics)
        fuzz::require(d.file == where && d.line > 0 && d.column > 0, "every problem has FILE:LINE:COL");
    return 0;
}
