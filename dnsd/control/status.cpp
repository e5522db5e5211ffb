#include "dnsd/control/status.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "dnsd/control/metrics.hpp"
#include "dnsd/wire/types.hpp"

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

// draining, out_since and safe_to_remove_at of a member (SPEC §11); none: never taken out.
void drain_json(json& out, const std::optional<health::DrainStatus>& drain, std::chrono::system_clock::time_point now) {
    out["draining"] = drain && drain->draining(now);
    out["out_since"] = drain ? json(format_time(drain->out_since)) : json(nullptr);
    out["safe_to_remove_at"] = drain ? json(format_time(drain->safe_to_remove_at)) : json(nullptr);
}

// "pending": joined at run time, waiting for its first successful probe.
std::string_view health_text(const health::MemberStatus& member) {
    return member.up ? "up" : member.pending ? "pending" : "down";
}

json member_json(const health::MemberStatus& member, std::chrono::system_clock::time_point now) {
    json out;
    out["address"] = member.address;
    out["source"] = member.source;
    out["region"] = optional_text(member.region);
    out["state"] = zone::to_string(member.state);
    out["override"] = member.override_state ? json(zone::to_string(*member.override_state)) : json(nullptr);
    out["health"] = health_text(member);
    out["since"] = format_time(member.since);
    out["probed"] = member.probed;
    out["target"] = optional_text(member.target);
    out["last_check"] = member.last_check ? json(format_time(*member.last_check)) : json(nullptr);
    out["last_result"] = member.last_check ? json(member.last_ok ? "success" : "failure") : json(nullptr);
    out["last_latency_ms"] = member.last_check ? json(member.latency_us / 1000.0) : json(nullptr);
    out["last_error"] = optional_text(member.last_error);
    drain_json(out, member.drain, now);
    return out;
}

}  // namespace

std::string format_time(std::chrono::system_clock::time_point time) {
    const auto ms = std::chrono::time_point_cast<std::chrono::milliseconds>(time);
    return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", fmt::gmtime(std::chrono::system_clock::to_time_t(ms)),
                       static_cast<int>(ms.time_since_epoch().count() % 1000));
}

json source_json(const discovery::SourceStatus& s, const config::Config& config) {
    json out;
    out["source"] = discovery::source_label(s.source);
    out["name"] = s.source.name;
    out["type"] = wire::type_name(s.source.type);
    out["resolver"] = s.source.resolver ? json(s.source.resolver->to_string()) : json(nullptr);
    out["region"] = s.source.region >= 0 ? json(config.regions[static_cast<size_t>(s.source.region)].name) : json(nullptr);
    out["refresh_min"] = s.source.refresh_min_s;
    out["refresh_max"] = s.source.refresh_max_s;
    out["last_refresh"] = s.last_refresh ? json(format_time(*s.last_refresh)) : json(nullptr);
    out["ttl"] = s.last_refresh ? json(s.ttl_s) : json(nullptr);
    out["next_refresh"] = format_time(s.next_refresh);
    out["answer_records"] = s.records;
    out["last_error"] = optional_text(s.error);
    out["failures"] = s.failures;
    out["members"] = s.members;
    return out;
}

json status_json(const State& state, std::span<const std::unique_ptr<net::Worker>> workers,
                 const health::Monitor& monitor, const Registrations& registrations, const fleet::Fleet* fleet,
                 const discovery::Discovery* discovery) {
    const auto now = std::chrono::system_clock::now();
    json out;
    out["version"] = DNSD_VERSION;
    out["started_at"] = format_time(state.started_at());
    out["uptime_seconds"] = std::chrono::duration<double>(now - state.started_at()).count();

    json zones = json::array();
    for (const auto& zone : state.zone_status()) zones.push_back(zone_json(zone));
    out["zones"] = std::move(zones);

    const health::Status health = monitor.status();
    const std::vector<discovery::SourceStatus> discovered =
        discovery ? discovery->status() : std::vector<discovery::SourceStatus>{};
    json pools = json::array();
    for (const auto& zone : health.zones)
        for (const auto& pool : zone.pools) {
            json members = json::array();
            for (const auto& member : pool.members) {
                json shown = member_json(member, now);
                if (fleet != nullptr && member.probed) {
                    const auto votes = fleet->votes(member.target);
                    shown["own_health"] = member.own_up ? "up" : "down";
                    shown["votes"] = votes ? votes_json(*votes) : json::object();
                    shown["fleet_health"] = member.up ? "up" : "down";
                }
                members.push_back(std::move(shown));
            }
            json gone = json::array();
            for (const auto& member : pool.gone) {
                json shown{{"address", member.address}};
                drain_json(shown, member.drain, now);
                gone.push_back(std::move(shown));
            }
            json sources = json::array();
            for (const auto& source : discovered)
                if (source.zone == zone.name && source.pool == pool.name)
                    sources.push_back(source_json(source, state.config()));
            pools.push_back({{"zone", zone.name},
                             {"pool", pool.name},
                             {"check", zone::to_string(pool.check)},
                             {"members", std::move(members)},
                             {"gone", std::move(gone)},
                             {"sources", std::move(sources)}});
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

    json registered = json::array();
    for (const Registration& r : registrations.list())
        registered.push_back({{"zone", r.zone},
                              {"pool", r.pool},
                              {"address", r.address.to_string()},
                              {"region", optional_text(r.region)},
                              {"weight", r.weight},
                              {"port", r.port == 0 ? json(nullptr) : json(r.port)},
                              {"expires_at", format_time(r.expires_at)},
                              {"expires_in_seconds", std::chrono::duration<double>(r.expires_at - now).count()}});
    out["registrations"] = std::move(registered);

    // Counts since start-up; a reader takes the rate from two readings and
    // their uptime_seconds.
    json answers = json::array();
    for (const PoolAnswers& row : sum_pool_answers(workers, state.config().regions))
        answers.push_back({{"zone", row.zone},
                           {"pool", row.pool},
                           {"region", optional_text(row.region)},
                           {"tier", row.tier},
                           {"count", row.count}});
    out["answers"] = std::move(answers);
    out["last_reload"] = state.last_reload() ? reload_json(*state.last_reload(), listed_zones) : json(nullptr);
    if (const auto& latency = state.latency()) {
        const auto& stats = latency->stats();
        out["latency"] = {{"measured_networks", stats.measured},
                          {"routed_networks", stats.networks},
                          {"inside_region_subnets", stats.inside_subnets},
                          {"orders", stats.results},
                          {"measurements_bytes", stats.measurements_bytes},
                          {"routes_bytes", stats.memory_bytes},
                          {"compile_ms", stats.build_ms}};
    } else {
        out["latency"] = nullptr;
    }
    return out;
}

json member_report_json(std::string_view zone, std::string_view pool, const core::Address& address,
                        const health::MemberReport& report) {
    const auto now = std::chrono::system_clock::now();
    json out;
    out["zone"] = zone;
    out["pool"] = pool;
    out["address"] = address.to_string();
    if (const auto& member = report.status) {
        out["source"] = member->source;
        out["state"] = zone::to_string(member->override_state.value_or(member->state));
        out["health"] = health_text(*member);
    } else {
        out["state"] = "removed";
        out["health"] = nullptr;
    }
    drain_json(out, report.drain, now);
    return out;
}

json votes_json(const fleet::TargetVotes& votes) {
    json out = json::object();
    for (const auto& [node, up] : votes.votes) out[node] = up ? "up" : "down";
    return out;
}

json fleet_json(const fleet::Status& status, const config::Fleet& settings) {
    const auto now = std::chrono::system_clock::now();
    json nodes = json::array();
    for (const fleet::NodeStatus& node : status.nodes) {
        json shown;
        shown["node"] = node.node;
        shown["self"] = node.self;
        shown["last_heartbeat"] = node.last_heard ? json(format_time(*node.last_heard)) : json(nullptr);
        shown["age_seconds"] =
            node.last_heard ? json(std::chrono::duration<double>(now - *node.last_heard).count()) : json(nullptr);
        shown["stale"] = node.stale;
        if (node.self)
            shown["connection"] = std::string(fleet::to_string(status.connection));
        else
            shown["connection"] = node.stale ? "stale" : "connected";
        const fleet::Heartbeat* heartbeat = node.heartbeat ? &*node.heartbeat : nullptr;
        shown["version"] = heartbeat ? json(heartbeat->version) : json(nullptr);
        json zones = json::object();
        if (heartbeat)
            for (const auto& [name, serial] : heartbeat->zones) zones[name] = serial;
        shown["zones"] = std::move(zones);
        shown["zones_revision"] =
            heartbeat && heartbeat->zones_revision ? json(*heartbeat->zones_revision) : json(nullptr);
        shown["zone_errors"] = heartbeat ? json(heartbeat->zone_errors) : json::array();
        shown["drift"] = node.drift;
        nodes.push_back(std::move(shown));
    }
    json out;
    out["node"] = status.node;
    out["connection"] = std::string(fleet::to_string(status.connection));
    out["problem"] = status.problem.empty() ? json(nullptr) : json(status.problem);
    out["nats"] = settings.nats;
    out["health_quorum"] = config::to_string(settings.health_quorum);
    out["stale_after"] = settings.stale_after_s;
    out["zones"] = settings.zones == config::Fleet::Zones::shared ? "shared" : "local";
    out["zones_revision"] = status.zones_revision ? json(*status.zones_revision) : json(nullptr);
    out["drift"] = status.drift;
    out["nodes"] = std::move(nodes);
    return out;
}

json reload_json(const ReloadResult& result, size_t listed) {
    json changes = json::array();
    for (size_t i = 0; i < result.changes.size() && i < listed; ++i) {
        const ZoneChange& change = result.changes[i];
        changes.push_back({{"zone", change.zone},
                           {"serial_before", optional_serial(change.serial_before)},
                           {"serial_after", optional_serial(change.serial_after)}});
    }
    return {{"ok", result.ok()},
            {"finished_at", format_time(result.finished_at)},
            {"trigger", result.trigger},
            {"errors", result.errors},
            {"changes", std::move(changes)},
            {"changes_total", result.changes.size()},
            {"geo_replaced", result.geo_replaced}};
}

}  // namespace dnsd::control
