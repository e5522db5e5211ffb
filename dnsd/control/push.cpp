#include "dnsd/control/push.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dnsd/fleet/push.hpp"
#include "dnsd/zone/load.hpp"

namespace dnsd::control {

int push(const Flags& flags) {
    core::Diagnostics diagnostics;
    const std::optional<config::Config> config = settle(flags, diagnostics);
    if (config && !config->fleet)
        diagnostics.push_back({config->file.empty() ? "dnsd" : config->file, 0, 0,
                               "no \"fleet\" in the config: name the NATS servers to push to with --config"});
    if (diagnostics.empty()) {
        const zone::DirectoryLoad zones = zone::load_directory(config->zones_dir, config->region_names());
        diagnostics = zones.diagnostics;
        if (diagnostics.empty() && zones.files == 0)
            diagnostics.push_back({config->zones_dir, 0, 0, "no zone files to push"});
        fleet::ZoneSet set;
        for (const auto& zone : zones.snapshot->zones) {
            const std::string name = std::filesystem::path(zone->file).filename().string();
            if (!fleet::is_zone_file_name(name)) {
                diagnostics.push_back({zone->file, 0, 0,
                                       "a pushed file's name is letters, digits, '.', '-' and '_', ending in .json"});
                continue;
            }
            std::ifstream in(zone->file, std::ios::binary);
            std::ostringstream text;
            text << in.rdbuf();
            if (!in) diagnostics.push_back({zone->file, 0, 0, "cannot read the file again"});
            set.files[name] = text.str();
        }
        if (diagnostics.empty()) {
            set.pushed_at_s = std::chrono::duration_cast<std::chrono::seconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
            char host[256] = {};
            gethostname(host, sizeof host - 1);
            set.pushed_by = host;
            std::string error;
            const auto revision = fleet::push_zones(*config->fleet, set, error);
            if (!revision) {
                std::fprintf(stderr, "dnsd push: %s; nothing was pushed\n", error.c_str());
                return 1;
            }
            std::printf("pushed %zu zone file%s to the fleet (revision %llu)\n", set.files.size(),
                        set.files.size() == 1 ? "" : "s", static_cast<unsigned long long>(*revision));
            return 0;
        }
    }
    for (const auto& diagnostic : diagnostics) std::fprintf(stderr, "%s\n", diagnostic.to_string().c_str());
    std::fprintf(stderr, "dnsd push: nothing was pushed\n");
    return 1;
}

}  // namespace dnsd::control
