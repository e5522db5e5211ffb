#include "dnsd/control/status.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace dnsd::control {

namespace {

using json = nlohmann::ordered_json;

json optional_text(const std::string& text) { return text.empty() ? json(nullptr) : json(text); }

json optional_serial(const std::optional<uint32_t>& serial) { return serial ? json(*serial) : json(nullptr); }

json zone_json(const ZoneFileStatus& zone) {
    json out;
    out["file"] = zone.file;
    out["zone"] = optional_text(zone.zone);
    out["serial"] = optional_serial(zone.serial);
    out["loaded_at"] = zone.loaded_at ? json(format_time(*zone.loaded_at)) : json(nullptr);
    // The problems of the file as it is now; while there are any, the version
    // loaded at `loaded_at` (if one) keeps serving.
    out["last_error"] = zone.errors.empty() ? json(nullptr) : json(zone.errors.front());
    out["errors"] = zone.errors;
    return out;
}

json member_json(const health::MemberStatus& member) {
    json out;
    out["address"] = member.address;
    out["region"] = optional_text(member.region);
    out["state"] = zone::to_string(member.state);
    out["override"] = member.override_state ? json(zone::to_string(*member.override_state)) : json(nullptr);
    out["health"] = member.up ? "up" : "down";
    out["since"] = format_time(member.since);
    out["probed"] = member.probed;
    out["target"] = optional_text(member.target);
    out["last_check"] = member.last_check ? json(format_time(*member.last_check)) : json(nullptr);
    out["last_result"] = member.last_check ? json(member.last_ok ? "success" : "failure") : json(nullptr);
    out["last_latency_ms"] = member.last_check ? json(member.latency_us / 1000.0) : json(nullptr);
    out["last_error"] = optional_text(member.last_error);
    return out;
}

}  // namespace

std::string format_time(std::chrono::system_clock::time_point time) {
    const auto ms = std::chrono::time_point_cast<std::chrono::milliseconds>(time);
    return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", fmt::gmtime(std::chrono::system_clock::to_time_t(ms)),
                       static_cast<int>(ms.time_since_epoch().count() % 1000));
}

json status_json(const State& state, const health::Monitor& monitor) {
    const auto now = std::chrono::system_clock::now();
    json out;
    out["version"] = DNSD_VERSION;
    out["started_at"] = format_time(state.started_at());
    out["uptime_seconds"] = std::chrono::duration<double>(now - state.started_at()).count();

    json zones = json::array();
    for (const auto& zone : state.zone_status()) zones.push_back(zone_json(zone));
    out["zones"] = std::move(zones);

    const health::Status health = monitor.status();
    json pools = json::array();
    for (const auto& zone : health.zones)
        for (const auto& pool : zone.pools) {
            json members = json::array();
            for (const auto& member : pool.members) members.push_back(member_json(member));
            pools.push_back({{"zone", zone.name},
                             {"pool", pool.name},
                             {"check", zone::to_string(pool.check)},
                             {"members", std::move(members)}});
        }
    out["pools"] = std::move(pools);

    json overrides = json::array();
    for (const auto& [o, applied] : health.overrides)
        overrides.push_back({{"zone", o.zone},
                             {"pool", o.pool},
                             {"address", o.address.to_string()},
                             {"state", zone::to_string(o.state)},
                             {"applied", applied}});
    out["overrides"] = std::move(overrides);
    out["last_reload"] = state.last_reload() ? reload_json(*state.last_reload()) : json(nullptr);
    return out;
}

json reload_json(const ReloadResult& result) {
    json changes = json::array();
    for (const auto& change : result.changes)
        changes.push_back({{"zone", change.zone},
                           {"serial_before", optional_serial(change.serial_before)},
                           {"serial_after", optional_serial(change.serial_after)}});
    return {{"ok", result.ok()},
            {"finished_at", format_time(result.finished_at)},
            {"trigger", result.trigger},
            {"errors", result.errors},
            {"changes", std::move(changes)},
            {"geo_replaced", result.geo_replaced}};
}

}  // namespace dnsd::control
