#pragma once
// Logging: spdlog to stderr, one line per event, for operators and for the
// tests that read the listening ports back from the log.
#include <optional>
#include <string_view>

#include <spdlog/spdlog.h>

namespace dnsd::core {

// "debug", "info", "warn" or "error"; nullopt for anything else.
std::optional<spdlog::level::level_enum> parse_log_level(std::string_view name);

// Makes a stderr logger the default one, at `level`. Called once, at start-up,
// before any other thread exists.
void setup_logging(spdlog::level::level_enum level);

}  // namespace dnsd::core
