#pragma once
// What the command line says, and the settings it yields: the config file (or
// the built-in defaults) with the flags laid over it (SPEC §1).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dnsd/config/config.hpp"
#include "dnsd/core/address.hpp"
#include "dnsd/core/diagnostic.hpp"
#include "dnsd/geo/geo.hpp"

namespace dnsd::control {

struct Flags {
    std::optional<std::string> config_file;
    std::vector<core::Endpoint> listen;  // empty: the config's list
    std::optional<std::string> zones_dir;
    std::optional<std::string> geoip_path;
    std::optional<unsigned> threads;
    std::optional<core::Endpoint> http;
    std::optional<std::string> log_level;
    std::optional<std::string> state_dir;
};

// Nullopt when the config file is unreadable or invalid; `diagnostics` says why.
std::optional<config::Config> settle(const Flags& flags, core::Diagnostics& diagnostics);

// For the command line tools that ask a running node (`dnsd fleet`, `dnsd
// drain`): the settled config, which has an HTTP endpoint. Nullopt after
// printing why to stderr (every diagnostic, or "dnsd COMMAND: no HTTP endpoint
// to ask").
std::optional<config::Config> settle_for_asking(const Flags& flags, std::string_view command);

// The geo data for these settings. A database the config file or --geoip named
// must open; the built-in default that is not there is skipped with a warning
// (subnets and default_region still place clients). A database whose records
// have no country at the configured path gets a warning too. On failure,
// nullptr and one line naming the file in `error`.
std::shared_ptr<const geo::Geo> load_geo(const config::Config& config, std::string& error);

}  // namespace dnsd::control
