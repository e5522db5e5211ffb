// The dnsd command line (SPEC §1): serve, `check`, `explain`, `push`, `fleet`, `drain`, --version, --help.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "dnsd/control/check.hpp"
#include "dnsd/control/explain.hpp"
#include "dnsd/control/drain_command.hpp"
#include "dnsd/control/fleet_command.hpp"
#include "dnsd/control/push.hpp"
#include "dnsd/control/server.hpp"
#include "dnsd/core/address.hpp"

namespace {

const CLI::Validator& endpoint_validator() {
    static const CLI::Validator validator(
        [](std::string& text) -> std::string {
            if (dnsd::core::Endpoint::parse(text)) return {};
            return "expected ADDR:PORT or [ADDR6]:PORT, got \"" + text + "\"";
        },
        "ADDR:PORT");
    return validator;
}

dnsd::core::Endpoint endpoint(const std::string& text) { return *dnsd::core::Endpoint::parse(text); }

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"dnsd: an authoritative DNS server that answers for pools of service instances"};
    app.set_version_flag("--version", std::string("dnsd ") + DNSD_VERSION);

    std::string config_file, zones_dir, geoip_path, http, log_level, state_dir;
    std::vector<std::string> listen;
    unsigned threads = 0;
    auto* config_option = app.add_option("--config", config_file, "JSON config file");
    app.add_option("--listen", listen, "ADDR:PORT for UDP and TCP; repeatable; replaces the config's list")
        ->check(endpoint_validator());
    auto* zones_option = app.add_option("--zones", zones_dir, "directory of <zone>.json files");
    auto* geoip_option = app.add_option("--geoip", geoip_path, "GeoIP database (.mmdb)");
    auto* threads_option = app.add_option("--threads", threads, "worker threads; 0: one per CPU")
                               ->check(CLI::Range(0u, 1024u));
    auto* http_option =
        app.add_option("--http", http, "ADDR:PORT of the HTTP endpoint")->check(endpoint_validator());
    auto* log_level_option = app.add_option("--log-level", log_level, "debug, info, warn or error")
                                 ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
    auto* state_dir_option =
        app.add_option("--state-dir", state_dir, "directory for what survives a restart (runtime overrides, latency measurements)")
            ->check(CLI::Validator([](std::string& text) { return text.empty() ? std::string("empty") : ""; }, "DIR"));

    auto* check = app.add_subcommand("check", "validate the config and every zone, print a summary");
    auto* check_config_option = check->add_option("--config", config_file, "JSON config file");
    auto* check_zones_option = check->add_option("--zones", zones_dir, "directory of <zone>.json files");

    std::string explain_name, explain_type, explain_client;
    auto* explain = app.add_subcommand("explain", "why a client gets its answer: region, tiers, members, TTL, "
                                                  "ECS scope (offline, from the config and zone files)");
    auto* explain_config_option = explain->add_option("--config", config_file, "JSON config file");
    auto* explain_zones_option = explain->add_option("--zones", zones_dir, "directory of <zone>.json files");
    auto* explain_geoip_option = explain->add_option("--geoip", geoip_path, "GeoIP database (.mmdb)");
    auto* explain_state_dir_option =
        explain->add_option("--state-dir", state_dir, "the state directory whose latency measurements count");
    explain->add_option("NAME", explain_name, "the name asked for, such as www.demo.example")->required();
    explain->add_option("TYPE", explain_type, "A (default), AAAA, or another record type");
    explain->add_option("--client", explain_client,
                        "ADDR: the address the query came from; ADDR/PREFIX: a resolver's client network (ECS)")
        ->required();
    auto* push = app.add_subcommand("push", "validate every zone file and store them as the fleet's zones "
                                            "(nothing is stored if one is invalid)");
    auto* push_config_option = push->add_option("--config", config_file, "JSON config file naming the fleet");
    auto* push_zones_option = push->add_option("--zones", zones_dir, "directory of <zone>.json files to push");

    auto* fleet = app.add_subcommand("fleet", "a running node's view of its fleet: nodes, heartbeats, serials, drift");
    auto* fleet_config_option = fleet->add_option("--config", config_file, "JSON config file (for its \"http\")");
    auto* fleet_http_option =
        fleet->add_option("--http", http, "ADDR:PORT of the node's HTTP endpoint")->check(endpoint_validator());

    dnsd::control::DrainRequest drain_request;
    std::string drain_token;
    unsigned drain_timeout = 3600;
    auto* drain = app.add_subcommand("drain", "take a member out of its pool on a running node; with --wait, return "
                                              "once no resolver can still hold it");
    auto* drain_config_option = drain->add_option("--config", config_file, "JSON config file (for \"http\" and \"http_token\")");
    auto* drain_http_option =
        drain->add_option("--http", http, "ADDR:PORT of the node's HTTP endpoint")->check(endpoint_validator());
    drain->add_option("ZONE", drain_request.zone, "the pool's zone")->required();
    drain->add_option("POOL", drain_request.pool, "the pool")->required();
    drain->add_option("ADDRESS", drain_request.address, "the member's address")->required();
    drain->add_flag("--wait", drain_request.wait, "return only once the member is safe to remove");
    auto* drain_token_option = drain->add_option("--token", drain_token, "bearer token (else the config's http_token)");
    drain->add_option("--timeout", drain_timeout, "seconds --wait waits at most (default 3600)")
        ->check(CLI::Range(1u, 604800u));
    app.require_subcommand(0, 1);

    CLI11_PARSE(app, argc, argv);

    dnsd::control::Flags flags;
    if (config_option->count() || check_config_option->count() || explain_config_option->count() ||
        push_config_option->count() || fleet_config_option->count() || drain_config_option->count())
        flags.config_file = config_file;
    if (zones_option->count() || check_zones_option->count() || explain_zones_option->count() ||
        push_zones_option->count())
        flags.zones_dir = zones_dir;
    for (const auto& text : listen) flags.listen.push_back(endpoint(text));
    if (geoip_option->count() || explain_geoip_option->count()) flags.geoip_path = geoip_path;
    if (threads_option->count()) flags.threads = threads;
    if (http_option->count() || fleet_http_option->count() || drain_http_option->count()) flags.http = endpoint(http);
    if (log_level_option->count()) flags.log_level = log_level;
    if (state_dir_option->count() || explain_state_dir_option->count()) flags.state_dir = state_dir;

    try {
        if (check->parsed()) return dnsd::control::check(flags);
        if (push->parsed()) return dnsd::control::push(flags);
        if (fleet->parsed()) return dnsd::control::show_fleet(flags);
        if (drain->parsed()) {
            if (drain_token_option->count()) drain_request.token = drain_token;
            drain_request.timeout = std::chrono::seconds(drain_timeout);
            return dnsd::control::drain(flags, drain_request);
        }
        if (explain->parsed()) return dnsd::control::run_explain(flags, explain_name, explain_type, explain_client);
        return dnsd::control::serve(flags);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "dnsd: %s\n", e.what());
        return 1;
    }
}
