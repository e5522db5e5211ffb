#include "dnsd/control/fleet_command.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>

#include "dnsd/control/http_client.hpp"

namespace dnsd::control {

namespace {

using nlohmann::json;

std::string text(const json& value) {
    if (value.is_string()) return value.get<std::string>();
    if (value.is_null()) return "-";
    return value.dump();
}

int fail(const std::string& why) {
    std::fprintf(stderr, "dnsd fleet: %s\n", why.c_str());
    return 1;
}

}  // namespace

int show_fleet(const Flags& flags) {
    const std::optional<config::Config> config = settle_for_asking(flags, "fleet");
    if (!config) return 1;
    std::string error;
    const auto reply = http_request(*config->http, "GET", "/v1/fleet", config->http_token, error);
    if (!reply) return fail(error);
    const json body = json::parse(reply->body, nullptr, false);
    if (reply->status != 200) {
        const std::string why = body.is_object() && body.contains("error") ? text(body["error"]) : reply->body;
        return fail(config->http->to_string() + " answered " + std::to_string(reply->status) + ": " + why);
    }
    if (!body.is_object() || !body.contains("nodes") || !body["nodes"].is_array())
        return fail(config->http->to_string() + ": not a /v1/fleet answer");

    std::printf("%-20s %-11s %-10s %-8s %s\n", "NODE", "CONNECTION", "HEARD", "VERSION", "ZONES");
    for (const json& node : body["nodes"]) {
        if (!node.is_object()) continue;
        std::string name = text(node.value("node", json()));
        if (node.value("self", false)) name += " (this)";
        std::string heard = "-";
        if (const json age = node.value("age_seconds", json()); age.is_number())
            heard = std::to_string(static_cast<long long>(age.get<double>())) + "s ago";
        std::string zones;
        if (const json z = node.value("zones", json()); z.is_object())
            for (const auto& [zone_name, serial] : z.items())
                zones += (zones.empty() ? "" : ", ") + zone_name + " " + text(serial);
        if (const json revision = node.value("zones_revision", json()); !revision.is_null())
            zones += " (shared revision " + text(revision) + ")";
        if (node.value("drift", false)) zones += "  DRIFT";
        if (const json errors = node.value("zone_errors", json()); errors.is_array() && !errors.empty())
            zones += "  " + std::to_string(errors.size()) + " zone error(s)";
        std::printf("%-20s %-11s %-10s %-8s %s\n", name.c_str(), text(node.value("connection", json())).c_str(),
                    heard.c_str(), text(node.value("version", json())).c_str(), zones.c_str());
    }
    const bool drift = body.value("drift", false);
    std::printf("%zu node%s, quorum %s, %s\n", body["nodes"].size(), body["nodes"].size() == 1 ? "" : "s",
                text(body.value("health_quorum", json())).c_str(), drift ? "drift: some node serves another serial" : "no drift");
    if (const json problem = body.value("problem", json()); problem.is_string())
        std::printf("this node: %s (%s)\n", text(body.value("connection", json())).c_str(), problem.get<std::string>().c_str());
    return 0;
}

}  // namespace dnsd::control
