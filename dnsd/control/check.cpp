#include "dnsd/control/check.hpp"

#include <cstdio>
#include <string>

#include "dnsd/wire/types.hpp"
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

// One line per members_from entry: what dnsd will ask, where, and how often.
void print_member_sources(const zone::Zone& zone, zone::RegionNames regions) {
    for (const auto& pool : zone.pools)
        for (const auto& source : pool.members_from) {
            std::string line = "  pool " + pool.name + ": members from " + source.name + " " +
                               wire::type_name(source.type) + " at " +
                               (source.resolver ? source.resolver->to_string() : "the system's resolvers") +
                               ", refreshed every " + std::to_string(source.refresh_min_s) + " to " +
                               std::to_string(source.refresh_max_s) + " s";
            if (source.region >= 0) line += ", region " + std::string(regions[static_cast<size_t>(source.region)]);
            if (source.weight) line += ", weight " + std::to_string(*source.weight);
            if (source.state != zone::MemberState::automatic) line += ", state " + std::string(to_string(source.state));
            std::printf("%s\n", line.c_str());
        }
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
    const std::vector<std::string_view> regions = config->region_names();
    const zone::DirectoryLoad zones = zone::load_directory(config->zones_dir, regions);
    if (!zones.diagnostics.empty()) return report(zones.diagnostics);

    Tally total;
    for (const auto& zone : zones.snapshot->zones) {
        const Tally t = tally(*zone);
        std::printf("%s: %s, serial %u, %s\n", zone->name.c_str(), zone->file.c_str(), zone->serial,
                    counts(t).c_str());
        print_member_sources(*zone, regions);
        total.add(t);
    }
    std::printf("%zu zones, %s\n", zones.snapshot->zones.size(), counts(total).c_str());
    return 0;
}

}  // namespace dnsd::control
