#include "dnsd/control/settings.hpp"

namespace dnsd::control {

std::optional<config::Config> settle(const Flags& flags, core::Diagnostics& diagnostics) {
    std::optional<config::Config> config =
        flags.config_file ? config::load_file(*flags.config_file, diagnostics) : config::defaults();
    if (!config) return std::nullopt;
    if (!flags.listen.empty()) config->listen = flags.listen;
    if (flags.zones_dir) config->zones_dir = *flags.zones_dir;
    if (flags.geoip_path) config->geoip_path = *flags.geoip_path;
    if (flags.threads) config->threads = *flags.threads;
    if (flags.http) config->http = *flags.http;
    if (flags.log_level) config->log_level = *flags.log_level;
    return config;
}

}  // namespace dnsd::control
