// The records fleet nodes read from NATS (dnsd/fleet/records.hpp,
// latency_records.hpp): byte 0 picks the kind ('0' override, '1' heartbeat,
// '2' verdict, '3' zone set, '4' latency, '5' registration; taken modulo 8),
// the rest is the value; for latency, the key's line and then the value.
#include <string>

#include "dnsd/fleet/latency_records.hpp"
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
        case 4: {
            constexpr std::string_view regions[] = {"eu", "us", "ap"};
            const size_t newline = std::min(text.find('\n'), text.size());
            const std::string key = text.substr(0, newline);
            const std::string value = text.substr(std::min(newline + 1, text.size()));
            const auto record = fleet::decode_latency(key, value, regions, where, diagnostics);
            decoded = record.has_value();
            if (!record) break;
            fuzz::require(fleet::latency_key(record->node, record->network) == key, "a key read is the key written");
            // What is read is written back and read again the same.
            core::Diagnostics again;
            const auto back = fleet::decode_latency(key, fleet::encode_latency(record->cells, regions), regions, where, again);
            fuzz::require(back.has_value(), "a record written back reads again");
            for (size_t r = 0; back && r < std::size(regions); ++r) {
                const latency::Cell &a = record->cells[r], &b = back->cells[r];
                fuzz::require(a.samples == b.samples && a.updated_s == b.updated_s && a.mean_ms == b.mean_ms &&
                                  a.weight == b.weight,
                              "a record written back keeps every number");
                fuzz::require(a.samples == 0 || (a.mean_ms > 0 && a.weight > 0), "an aggregate read is usable");
            }
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
