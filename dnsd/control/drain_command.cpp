#include "dnsd/control/drain_command.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cstdio>
#include <thread>

#include "dnsd/control/http_client.hpp"

namespace dnsd::control {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

int fail(const std::string& why) {
    std::fprintf(stderr, "dnsd drain: %s\n", why.c_str());
    return 1;
}

// A path segment as the router decodes it: every byte but the unreserved ones percent-encoded.
std::string segment(std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string text_of(const json& body, const char* key) {
    const json value = body.is_object() ? body.value(key, json()) : json();
    return value.is_string() ? value.get<std::string>() : "-";
}

// The reply's JSON when it is a 200 with an object; else nullopt and why.
std::optional<json> object_reply(const std::optional<HttpReply>& reply, const std::string& where, std::string& error) {
    if (!reply) return std::nullopt;
    const json body = json::parse(reply->body, nullptr, false);
    if (reply->status != 200) {
        const std::string why = body.is_object() && body.contains("error") ? text_of(body, "error") : reply->body;
        error = where + " answered " + std::to_string(reply->status) + ": " + why;
        return std::nullopt;
    }
    if (!body.is_object()) {
        error = where + ": the answer is not a JSON object";
        return std::nullopt;
    }
    return body;
}

}  // namespace

int drain(const Flags& flags, const DrainRequest& request) {
    const std::optional<config::Config> config = settle_for_asking(flags, "drain");
    if (!config) return 1;
    const core::Endpoint& server = *config->http;
    const std::string token = request.token.value_or(config->http_token);
    const std::string where = "http://" + server.to_string();
    const std::string path =
        "/v1/zones/" + segment(request.zone) + "/pools/" + segment(request.pool) + "/members/" + segment(request.address);
    const std::string member = request.address + " in " + request.zone + "/" + request.pool;

    std::string error;
    // A registered member is taken out by ending its registration, so that
    // no override outlives the instance; any other by setting it down.
    const auto shown = object_reply(http_request(server, "GET", path, token, error), where, error);
    if (shown && text_of(*shown, "source") == "registration") {
        const std::string registration = "/v1/zones/" + segment(request.zone) + "/pools/" + segment(request.pool) +
                                         "/registrations/" + segment(request.address);
        const auto removed = http_request(server, "DELETE", registration, token, error, std::chrono::seconds(5));
        if (!object_reply(removed, where, error)) return fail(error);
    } else if (!shown || text_of(*shown, "state") != "removed") {
        const auto put = http_request(server, "PUT", path, token, error, std::chrono::seconds(5), R"({"state": "down"})");
        if (!object_reply(put, where, error)) return fail(error);
    }

    const auto deadline = Clock::now() + request.timeout;
    bool said = false;
    for (;;) {
        const auto get = http_request(server, "GET", path, token, error);
        const auto body = object_reply(get, where, error);
        // A node that cannot be reached may be restarting: asked again until the deadline.
        if (!body && get) return fail(error);
        if (body) {
            if (text_of(*body, "out_since") == "-")
                return fail(member + " is not being drained: its state was set back (" + text_of(*body, "state") + ")");
            if (!said) {
                std::printf("%s: out since %s, safe to remove at %s\n", member.c_str(),
                            text_of(*body, "out_since").c_str(), text_of(*body, "safe_to_remove_at").c_str());
                std::fflush(stdout);
                said = true;
            }
            if (!request.wait) return 0;
            if (!body->value("draining", true)) {
                std::printf("%s: safe to remove\n", member.c_str());
                return 0;
            }
        }
        if (Clock::now() >= deadline)
            return fail("timed out after " + std::to_string(request.timeout.count()) + " s waiting for " + member +
                        " to be safe to remove" + (body ? "" : " (" + error + ")"));
        std::this_thread::sleep_for(std::min<Clock::duration>(std::chrono::milliseconds(500), deadline - Clock::now()));
    }
}

}  // namespace dnsd::control
