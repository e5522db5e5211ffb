#include "dnsd/control/api.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <chrono>

#include "dnsd/control/explain.hpp"
#include "dnsd/control/exposition.hpp"
#include "dnsd/control/metrics.hpp"
#include "dnsd/control/page.hpp"
#include "dnsd/control/status.hpp"
#include "dnsd/core/log.hpp"

namespace dnsd::control {

namespace {

using nlohmann::json;

template <class Json>
http::Response json_response(int status, const Json& body) {
    http::Response response;
    response.status = status;
    // Names from the request need not be UTF-8.
    response.body = body.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
    return response;
}

// Compares without stopping at the first difference, so that the time taken
// does not tell how much of a guessed token was right.
bool same_secret(std::string_view given, std::string_view expected) {
    if (given.size() != expected.size()) return false;
    unsigned char differ = 0;
    for (size_t i = 0; i < given.size(); ++i) differ |= static_cast<unsigned char>(given[i] ^ expected[i]);
    return differ == 0;
}

// The token of an `Authorization: Bearer TOKEN` header (the scheme without
// regard to case, RFC 7235 §2.1), or empty.
std::string_view bearer_token(const http::Request& request) {
    const std::string* header = request.header("Authorization");
    if (header == nullptr) return {};
    std::string_view value = *header;
    constexpr std::string_view scheme = "bearer ";
    if (value.size() <= scheme.size()) return {};
    for (size_t i = 0; i < scheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(value[i])) != scheme[i]) return {};
    value.remove_prefix(scheme.size());
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    return value;
}

// The 404 for what the zones served lack.
http::Response not_found(health::OverrideResult result, const std::string& zone, const std::string& pool,
                         const core::Address& address) {
    switch (result) {
    case health::OverrideResult::no_such_zone: return http::Response::error(404, "no zone " + zone);
    case health::OverrideResult::no_such_pool: return http::Response::error(404, "no pool " + pool + " in zone " + zone);
    default: return http::Response::error(404, "no member " + address.to_string() + " in pool " + pool);
    }
}

// The status page may run its own script and style and ask this endpoint,
// nothing else: no inline script, no other origin, no frame around it.
constexpr const char* page_policy =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// One file of the status page. `no-cache`: a browser asks again (the page
// is small), so that a new dnsd never runs an old page's script.
http::Response page_response(const PageFile& file) {
    http::Response response;
    response.content_type = file.content_type;
    response.body = file.body;
    response.headers = {{"Cache-Control", "no-cache"},
                        {"Content-Security-Policy", page_policy},
                        {"X-Content-Type-Options", "nosniff"},
                        {"Referrer-Policy", "no-referrer"}};
    return response;
}

// The 4xx for a registration `put` refused; none when it went through.
std::optional<http::Response> registration_refusal(RegistrationResult result, const RegistrationRequest& request) {
    const Registration& r = request.registration;
    switch (result) {
        case RegistrationResult::no_such_zone: return http::Response::error(404, "no zone " + r.zone);
        case RegistrationResult::no_such_pool:
            return http::Response::error(404, "no pool " + r.pool + " in zone " + r.zone);
        case RegistrationResult::no_such_region: return http::Response::error(400, "no region \"" + r.region + "\"");
        case RegistrationResult::listed_in_zone:
            return http::Response::error(409, r.address.to_string() + " is listed in pool " + r.pool +
                                                  " by the zone file already; a registration would add nothing");
        default: return std::nullopt;
    }
}

}  // namespace

Api::Api(ApiSources sources) : sources_(sources) {
    for (const PageFile& file : page_files())
        router_.add("GET", file.path, [&file](http::Request&, const http::Params&, http::Respond respond) {
            respond(page_response(file));
        });
    router_.add("GET", "/metrics", [this](http::Request&, const http::Params&, http::Respond respond) {
        metrics(respond);
    });
    router_.add("GET", "/v1/status", [this](http::Request&, const http::Params&, http::Respond respond) {
        status(respond);
    });
    router_.add("GET", "/v1/fleet", [this](http::Request&, const http::Params&, http::Respond respond) {
        fleet(respond);
    });
    router_.add("GET", "/v1/explain", [this](http::Request& request, const http::Params&, http::Respond respond) {
        explain(request, respond);
    });
    router_.add("POST", "/v1/reload",
                mutating([this](http::Request&, const http::Params&, http::Respond respond) {
                    reload(std::move(respond));
                }));
    router_.add("GET", "/v1/zones/{zone}/pools/{pool}/members/{address}",
                [this](http::Request&, const http::Params& captures, http::Respond respond) {
                    member(captures, respond);
                });
    router_.add("PUT", "/v1/zones/{zone}/pools/{pool}/members/{address}",
                mutating([this](http::Request& request, const http::Params& captures, http::Respond respond) {
                    set_override(request, captures, respond);
                }));
    router_.add("PUT", "/v1/zones/{zone}/pools/{pool}/registrations/{address}",
                mutating([this](http::Request& request, const http::Params& captures, http::Respond respond) {
                    put_registration(request, captures, respond);
                }));
    router_.add("DELETE", "/v1/zones/{zone}/pools/{pool}/registrations/{address}",
                mutating([this](http::Request&, const http::Params& captures, http::Respond respond) {
                    delete_registration(captures, respond);
                }));
    router_.add("POST", "/v1/latency", mutating([this](http::Request& request, const http::Params&, http::Respond respond) {
                    add_beacons(request, respond);
                }));
}

http::RouteHandler Api::mutating(http::RouteHandler handler) const {
    return [this, handler = std::move(handler)](http::Request& request, const http::Params& captures,
                                                http::Respond respond) {
        const std::string& token = sources_.state.config().http_token;
        if (!token.empty() && !same_secret(bearer_token(request), token)) {
            http::Response response = http::Response::error(
                401, request.header("Authorization") ? "wrong bearer token" : "this call needs a bearer token");
            response.headers.push_back({"WWW-Authenticate", "Bearer realm=\"dnsd\""});
            return respond(std::move(response));
        }
        handler(request, captures, std::move(respond));
    };
}

void Api::metrics(http::Respond& respond) const {
    http::Response response;
    response.content_type = exposition_content_type;
    response.body = render_metrics({sources_.state, sources_.workers, sources_.monitor, sources_.fleet, sources_.discovery});
    respond(std::move(response));
}

void Api::status(http::Respond& respond) const {
    respond(json_response(200, status_json(sources_.state, sources_.workers, sources_.monitor, sources_.registrations,
                                           sources_.fleet, sources_.discovery)));
}

void Api::fleet(http::Respond& respond) const {
    if (sources_.fleet == nullptr) return respond(http::Response::error(404, "no fleet configured"));
    respond(json_response(200, fleet_json(sources_.fleet->status(), *sources_.state.config().fleet)));
}

void Api::explain(const http::Request& request, http::Respond& respond) const {
    const auto params = http::parse_query(request.query);
    if (!params) return respond(http::Response::error(400, "malformed percent-encoding in the query string"));
    for (const auto& [key, value] : params->items())
        if (key != "name" && key != "type" && key != "client")
            return respond(http::Response::error(400, "unknown parameter \"" + key + "\"; use name, type and client"));
    const std::string* name = params->find("name");
    const std::string* client = params->find("client");
    if (name == nullptr || client == nullptr)
        return respond(http::Response::error(400, "name and client are required: /v1/explain?name=N&type=T&client=ADDR[/PREFIX]"));
    const std::string* type = params->find("type");
    std::string error;
    const auto question = parse_explain_request(*name, type ? *type : "", *client, error);
    if (!question) return respond(http::Response::error(400, error));

    const auto view = sources_.state.published().load();
    ExplainOptions options;
    if (sources_.fleet != nullptr)
        options.votes = [fleet = sources_.fleet](std::string_view target) { return fleet->votes(target); };
    if (sources_.latency != nullptr) options.measurements = &sources_.latency->measurements();
    options.min_samples = sources_.state.config().latency.min_samples;
    const ExplainReport report = control::explain(*view, *question, options);
    nlohmann::json out = to_json(report);
    // A pool's members_from sources, live: where its runtime members come from.
    if (out["pool"].is_object()) {
        nlohmann::json sources = nlohmann::json::array();
        if (sources_.discovery != nullptr)
            for (const auto& source : sources_.discovery->status())
                if (source.zone == report.zone && source.pool == report.pool->name)
                    sources.push_back(nlohmann::json(source_json(source, sources_.state.config())));
        out["pool"]["sources"] = std::move(sources);
    }
    respond(json_response(200, out));
}

void Api::reload(http::Respond respond) const {
    sources_.reloader.request([respond = std::move(respond)](const ReloadResult& result) {
        // 422: the reload ran, and some file is invalid (its previous version serves).
        respond(json_response(result.ok() ? 200 : 422, reload_json(result)));
    });
}

void Api::member(const http::Params& captures, http::Respond& respond) const {
    const std::string& zone = *captures.find("zone");
    const std::string& pool = *captures.find("pool");
    const std::string& address_text = *captures.find("address");
    const auto address = core::Address::parse(address_text);
    if (!address) return respond(http::Response::error(400, "not an IP address: " + address_text));
    health::MemberReport report;
    const health::OverrideResult found = sources_.monitor.member(zone, pool, *address, report);
    if (found != health::OverrideResult::ok) return respond(not_found(found, zone, pool, *address));
    respond(json_response(200, member_report_json(zone, pool, *address, report)));
}

void Api::set_override(const http::Request& request, const http::Params& captures, http::Respond& respond) const {
    const std::string& zone = *captures.find("zone");
    const std::string& pool = *captures.find("pool");
    const std::string& address_text = *captures.find("address");
    const auto address = core::Address::parse(address_text);
    if (!address) return respond(http::Response::error(400, "not an IP address: " + address_text));

    const json body = json::parse(request.body, nullptr, false);
    if (body.is_discarded()) return respond(http::Response::error(400, "the body is not JSON"));
    if (!body.is_object() || body.size() != 1 || !body.contains("state") || !body["state"].is_string())
        return respond(http::Response::error(400, R"(expected {"state": "up" | "down" | "auto"})"));
    const std::string text = body["state"].get<std::string>();
    const auto state = zone::member_state(text);
    if (!state) return respond(http::Response::error(400, "state must be \"up\", \"down\" or \"auto\", not \"" + text + "\""));

    const health::OverrideResult found = sources_.monitor.set_override(zone, pool, *address, *state);
    if (found != health::OverrideResult::ok) return respond(not_found(found, zone, pool, *address));
    if (sources_.fleet != nullptr) sources_.fleet->share_override({zone, pool, *address, *state});
    // In force now, whether or not it could be kept: a full disk must not stop a drain.
    std::string error;
    const bool persisted = sources_.store.save_overrides(sources_.monitor.overrides(), error);
    json answer{{"zone", zone}, {"pool", pool}, {"address", address->to_string()}, {"state", text}, {"persisted", persisted}};
    if (!persisted) {
        const std::string warning = error + "; the override holds until dnsd stops";
        spdlog::warn("state: {}", warning);
        answer["warning"] = warning;
    }
    respond(json_response(200, answer));
}

void Api::put_registration(const http::Request& request, const http::Params& captures, http::Respond& respond) const {
    const std::string& zone = *captures.find("zone");
    const std::string& pool = *captures.find("pool");
    std::string error;
    const auto entry = parse_registration_request(zone, pool, *captures.find("address"), request.body,
                                                  sources_.state.config().region_names(), error);
    if (!entry) return respond(http::Response::error(400, error));
    const RegistrationResult result = sources_.registrations.put(entry->registration, entry->lease_s);
    if (const auto refusal = registration_refusal(result, *entry)) return respond(*refusal);
    if (sources_.fleet != nullptr)
        if (const Registration* held = sources_.registrations.find(zone, pool, entry->registration.address))
            sources_.fleet->share_registration(*held, std::chrono::seconds(entry->lease_s));
    json answer{{"zone", zone},
                {"pool", pool},
                {"address", entry->registration.address.to_string()},
                {"result", to_string(result)},
                {"lease", entry->lease_s}};
    respond(json_response(result == RegistrationResult::added ? 201 : 200, answer));
}

void Api::delete_registration(const http::Params& captures, http::Respond& respond) const {
    const std::string& zone = *captures.find("zone");
    const std::string& pool = *captures.find("pool");
    const std::string& address_text = *captures.find("address");
    const auto address = core::Address::parse(address_text);
    if (!address) return respond(http::Response::error(400, "not an IP address: " + address_text));
    const Registration* held = sources_.registrations.find(zone, pool, *address);
    if (held == nullptr)
        return respond(http::Response::error(404, "no registration of " + address->to_string() + " in " + zone + "/" + pool));
    if (sources_.fleet != nullptr) sources_.fleet->share_deregistration(*held);
    sources_.registrations.remove(zone, pool, *address);
    // Gone from the pool: its drain says when it is safe to stop.
    health::MemberReport report;
    sources_.monitor.member(zone, pool, *address, report);
    respond(json_response(200, member_report_json(zone, pool, *address, report)));
}

void Api::add_beacons(const http::Request& request, http::Respond& respond) const {
    if (sources_.latency == nullptr) return respond(http::Response::error(404, "latency routing is not running"));
    std::string error;
    const auto regions = sources_.state.config().region_names();
    const auto beacons = latency::parse_beacons(request.body, regions, error);
    if (!beacons) return respond(http::Response::error(400, error));
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    sources_.latency->add(*beacons, static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(now).count()));
    respond(json_response(200, json{{"accepted", beacons->size()}}));
}

}  // namespace dnsd::control
