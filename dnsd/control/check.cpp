#include "dnsd/control/check.hpp"

#include <cstdio>
#include <string>

#include "dnsd/zone/load.hpp"

namespace dnsd::control {

namespace {

struct Tally {
    size_t names = 0;  // names with data; empty non-terminals are not counted
    size_t pools = 0;
    size_t members = 0;

    void add(const Tally& other) {
        names += other.names;
        pools += other.pools;
        members += other.members;
    }
};

Tally tally(const zone::Zone& zone) {
    Tally t;
    for (const auto& node : zone.nodes())
        if (!node.empty()) ++t.names;
    t.pools = zone.pools.size();
    for (const auto& pool : zone.pools) t.members += pool.members.size();
    return t;
}

std::string counts(const Tally& t) {
    return std::to_string(t.names) + " names, " + std::to_string(t.pools) + " pools, " +
           std::to_string(t.members) + " members";
}

int report(const core::Diagnostics& diagnostics) {
    for (const auto& diagnostic : diagnostics) std::fprintf(stderr, "%s\n", diagnostic.to_string().c_str());
    return 1;
}

}  // namespace

int check(const Flags& flags) {
    core::Diagnostics diagnostics;
    const std::optional<config::Config> config = settle(flags, diagnostics);
    if (!config) return report(diagnostics);
    const zone::DirectoryLoad zones = zone::load_directory(config->zones_dir, config->region_names());
    if (!zones.diagnostics.empty()) return report(zones.diagnostics);

    Tally total;
    for (const auto& zone : zones.snapshot->zones) {
        const Tally t = tally(*zone);
        std::printf("%s: %s, serial %u, %s\n", zone->name.c_str(), zone->file.c_str(), zone->serial,
                    counts(t).c_str());
        total.add(t);
    }
    std::printf("%zu zones, %s\n", zones.snapshot->zones.size(), counts(total).c_str());
    return 0;
}

}  // namespace dnsd::control
