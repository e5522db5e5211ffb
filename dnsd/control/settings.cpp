#include "dnsd/control/settings.hpp"

#include <cstdio>
#include <filesystem>
#include <system_error>

#include "dnsd/core/log.hpp"

namespace dnsd::control {

std::optional<config::Config> settle(const Flags& flags, core::Diagnostics& diagnostics) {
    std::optional<config::Config> config =
        flags.config_file ? config::load_file(*flags.config_file, diagnostics) : config::defaults();
    if (!config) return std::nullopt;
    if (!flags.listen.empty()) config->listen = flags.listen;
    if (flags.zones_dir) config->zones_dir = *flags.zones_dir;
    if (flags.geoip_path) {
        config->geoip_path = *flags.geoip_path;
        config->geoip_named = !flags.geoip_path->empty();
    }
    if (flags.threads) config->threads = *flags.threads;
    if (flags.http) config->http = *flags.http;
    if (flags.log_level) config->log_level = *flags.log_level;
    if (flags.state_dir) config->state_dir = *flags.state_dir;
    return config;
}

std::optional<config::Config> settle_for_asking(const Flags& flags, std::string_view command) {
    core::Diagnostics diagnostics;
    std::optional<config::Config> config = settle(flags, diagnostics);
    if (!config) {
        for (const auto& diagnostic : diagnostics) std::fprintf(stderr, "%s\n", diagnostic.to_string().c_str());
        return std::nullopt;
    }
    if (!config->http) {
        std::fprintf(stderr, "dnsd %.*s: no HTTP endpoint to ask: give --http ADDR:PORT\n", static_cast<int>(command.size()),
                     command.data());
        return std::nullopt;
    }
    return config;
}

std::shared_ptr<const geo::Geo> load_geo(const config::Config& config, std::string& error) {
    std::error_code ignored;
    if (!config.geoip_named && !config.geoip_path.empty() && !std::filesystem::exists(config.geoip_path, ignored)) {
        spdlog::warn("{}: no GeoIP database here (start dnsd in its source tree, or name one with --geoip); "
                     "placing clients by region subnets and default_region only",
                     config.geoip_path);
        config::Config without = config;
        without.geoip_path.clear();
        return geo::Geo::load(without, error);
    }
    std::shared_ptr<const geo::Geo> geo = geo::Geo::load(config, error);
    if (geo && geo->database() && geo->map().stats().records > 0 && geo->map().stats().records_with_country == 0) {
        std::string path;
        for (const auto& key : config.geoip_fields.country) path += (path.empty() ? "" : ".") + key;
        spdlog::warn("{}: no record has a country at \"{}\"; name the database's field in the config, such as "
                     "\"geoip\": {{ \"path\": ..., \"country\": \"country_code\" }}",
                     config.geoip_path, path);
    }
    return geo;
}

}  // namespace dnsd::control
