#include "dnsd/core/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace dnsd::core {

std::optional<spdlog::level::level_enum> parse_log_level(std::string_view name) {
    if (name == "debug") return spdlog::level::debug;
    if (name == "info") return spdlog::level::info;
    if (name == "warn") return spdlog::level::warn;
    if (name == "error") return spdlog::level::err;
    return std::nullopt;
}

void setup_logging(spdlog::level::level_enum level) {
    auto logger = spdlog::stderr_color_mt("dnsd");
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
    logger->set_level(level);
    // Errors are flushed at once so that a failing start-up leaves its reason
    // on stderr even if the process is killed right after.
    logger->flush_on(spdlog::level::err);
    spdlog::set_default_logger(std::move(logger));
}

}  // namespace dnsd::core
