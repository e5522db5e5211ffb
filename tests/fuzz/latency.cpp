// Byte 0 picks what the rest is read as: even, a POST /v1/latency body
// (latency::parse_beacons); odd, a latency table file (latency::parse_table)
// whose rows then go into Measurements and compile into routes; and, for
// either, the same bytes as the measurements file of the state directory.
#include <string>
#include <string_view>
#include <vector>

#include "dnsd/latency/measurements.hpp"
#include "dnsd/latency/routes.hpp"
#include "fuzz.hpp"

using namespace dnsd;

namespace {

const std::vector<std::string_view> names{"eu", "us", "ap"};

geo::Regions regions() {
    std::vector<config::Region> list(3);
    for (size_t r = 0; r < list.size(); ++r) list[r].name = names[r];
    list[0].location = std::pair{50.11, 8.68};
    list[1].subnets = {config::Subnet{*core::Address::parse("10.0.0.0"), 8}};
    return geo::Regions(std::move(list), 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    latency::Measurements measurements(names.size(), 3600);
    if (data[0] % 2 == 0) {
        std::string error;
        const auto beacons = latency::parse_beacons(text, names, error);
        fuzz::require(beacons.has_value() == error.empty(), "beacons are read exactly when there is no error");
        if (beacons) {
            fuzz::require(beacons->size() <= latency::max_beacons, "at most 10,000 beacons");
            for (const auto& beacon : *beacons) {
                fuzz::require(beacon.region >= 0 && beacon.region < 3, "a beacon names a region");
                fuzz::require(beacon.rtt_ms > 0 && beacon.rtt_ms <= latency::max_rtt_ms, "a beacon's RTT is in range");
                measurements.add(beacon, 1'800'000'000);
            }
        }
    } else {
        const std::string path = "latency.csv";
        core::Diagnostics diagnostics;
        const auto rows = latency::parse_table(text, path, names, diagnostics);
        for (const auto& d : diagnostics)
            fuzz::require(d.file == path && d.line > 0 && d.column > 0, "every problem has FILE:LINE:COL");
        measurements.set_table(rows);
    }
    measurements.locate(nullptr, false);
    const geo::Regions compiled = regions();
    const auto routes = latency::Routes::build(measurements, compiled, 1);
    fuzz::require(routes->stats().networks <= measurements.size(), "no more routes than networks");

    latency::Measurements restored(names.size(), 3600);
    std::string warning;
    restored.restore(text, "latency-measurements.csv", names, warning);
    fuzz::require(warning.empty() || restored.size() == 0, "a damaged state file restores nothing");
    latency::Measurements again(names.size(), 3600);
    warning.clear();
    again.restore(measurements.save(names), "saved", names, warning);
    fuzz::require(warning.empty() && again.size() <= measurements.size(), "what is saved restores");
    return 0;
}
